// An independent client for adengine.v1: loads the .proto files, creates an advertiser and a
// campaign, bids until the campaign serves, reports an impression and a click (twice, to show
// deduplication), reads the campaign's spend, and sends one bad request.
//
//   cd docs/examples/node-client && npm install && node client.mjs [host:port]
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.resolve(here, '../../../engine/src/main/proto');
const target = process.argv[2] ?? '127.0.0.1:8080';

const definition = protoLoader.loadSync(
  ['adengine/v1/admin.proto', 'adengine/v1/auction.proto', 'adengine/v1/events.proto'],
  { includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true });
const v1 = grpc.loadPackageDefinition(definition).adengine.v1;
const creds = grpc.credentials.createInsecure();
const admin = new v1.AdminService(target, creds);
const auction = new v1.AuctionService(target, creds);
const events = new v1.EventService(target, creds);

const call = (client, method, request) => new Promise((resolve, reject) =>
  client[method](request, (err, response) => (err ? reject(err) : resolve(response))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const suffix = Date.now().toString(36);

const advertiserId = `acme-${suffix}`;
const campaignId = `acme-paris-${suffix}`;
const adId = `acme-paris-1-${suffix}`;

await call(admin, 'UpsertAdvertiser', { advertiser: {
  advertiser_id: advertiserId, name: 'Acme Hotels', kind: 'HOTEL_CHAIN',
  daily_budget_micros: '500000000', time_zone: 'Europe/Paris' } });
const upserted = await call(admin, 'UpsertCampaign', { campaign: {
  campaign_id: campaignId, advertiser_id: advertiserId, pricing: 'CPC',
  bid_micros: '1200000', daily_budget_micros: '100000000',
  destinations: [`paris-${suffix}`], devices: ['MOBILE', 'DESKTOP'],
  ads: [{ ad_id: adId, title: 'Acme Opera', star_rating: 4, review_score: 8.7,
          nightly_price_micros: '180000000', destination: `paris-${suffix}` }] } });
console.log('UpsertCampaign revision', upserted.revision);

const requestId = `r-${suffix}`;
let bid;
for (let i = 0; i < 50; i++) {
  bid = await call(auction, 'Bid', { request_id: requestId, user_id: 'u-42',
    destination: `paris-${suffix}`, device: 'MOBILE', placement: 'SEARCH_RESULTS', slots: 3,
    tmax_ms: 100, checkin: '2027-05-01', nights: 2, debug: true });
  if (bid.winners.length > 0) break;
  await sleep(100);
}
console.log('Bid', JSON.stringify({ winners: bid.winners, experiment_id: bid.experiment_id,
  arm: bid.arm, model_version: bid.model_version, candidates: bid.candidates, partial: bid.partial,
  no_bids: bid.no_bids }));
if (bid.winners.length !== 1) throw new Error('expected one winner');

const now = String(Date.now());
const batch = { events: [
  { event_id: `imp-${suffix}`, request_id: requestId, ad_id: adId, campaign_id: campaignId,
    type: 'IMPRESSION', time_ms: now },
  { event_id: `clk-${suffix}`, request_id: requestId, ad_id: adId, campaign_id: campaignId,
    type: 'CLICK', time_ms: now },
  { event_id: `bad-${suffix}`, request_id: requestId, ad_id: 'no-such-ad', campaign_id: campaignId,
    type: 'CLICK', time_ms: now }] };
console.log('Report', JSON.stringify(await call(events, 'Report', batch)));
console.log('Report again', JSON.stringify(await call(events, 'Report', batch)));

let view;
for (let i = 0; i < 50; i++) {
  view = await call(admin, 'GetCampaign', { campaign_id: campaignId });
  if (view.spent_micros !== '0') break;
  await sleep(200);
}
console.log('GetCampaign', JSON.stringify({ status: view.status, spent_micros: view.spent_micros,
  reserved_micros: view.reserved_micros, remaining_micros: view.remaining_micros,
  clicks: view.clicks, allowances: view.allowances }));

try {
  await call(auction, 'Bid', { request_id: 'r-bad', destination: 'paris', device: 'MOBILE',
    placement: 'SEARCH_RESULTS', slots: 0, tmax_ms: 100 });
  throw new Error('a bad request was accepted');
} catch (err) {
  console.log('Bad bid:', grpc.status[err.code], '-', err.details);
}
admin.close(); auction.close(); events.close();
