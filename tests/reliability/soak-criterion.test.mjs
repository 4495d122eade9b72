// The soak's file-descriptor criterion (tests/reliability/campaign/lib.mjs fdsGrowth) on recorded series (docs/reliability.md):
// it must pass the noise the soak really shows, which the old second-half slope flagged, and flag a leak within
// the short run's minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdsGrowth } from './campaign/lib.mjs';

const IN_FLIGHT = 4 * 20; // load.mjs: at most 4 sockets per chat of a wave, 20 chats at a time

// 60 s soak, every 5 s (idle 12 and 11): the old criterion read the emulator's as +36.4 % over the second half.
const SHORT = { auth: [23, 13, 42, 52, 42, 42, 42, 42, 42, 43, 43], emulator: [53, 34, 72, 33, 72, 34, 72, 39, 72, 36, 72] };
// 9 min, 1 000 chats, every 10 s: bands, no trend (old slope: auth -5.8 %, emulator +13.8 %, flagged).
const LONG = {
  auth: [42, 42, 42, 42, 43, 43, 42, 42, 42, 43, 42, 42, 42, 42, 42, 32, 32, 32, 32, 32, 32, 34, 37, 39, 43, 42, 42, 42, 43, 43, 42, 42, 32, 32, 32, 36, 42, 42, 42, 43, 32, 32, 40, 43, 43, 43, 43, 32, 32, 32, 41, 43, 43, 32],
  emulator: [34, 34, 35, 35, 36, 35, 36, 37, 37, 38, 38, 37, 36, 36, 36, 54, 53, 53, 53, 53, 53, 72, 72, 72, 72, 72, 50, 48, 46, 44, 40, 37, 53, 54, 72, 72, 72, 52, 46, 43, 53, 72, 72, 52, 47, 44, 37, 53, 58, 72, 72, 52, 46, 53],
};

test('recorded soak noise is bounded', () => {
  assert.equal(fdsGrowth(SHORT.auth, 12, IN_FLIGHT), '');
  assert.equal(fdsGrowth(SHORT.emulator, 11, IN_FLIGHT), '');
  assert.equal(fdsGrowth(LONG.auth, 12, IN_FLIGHT), '');
  assert.equal(fdsGrowth(LONG.emulator, 11, IN_FLIGHT), '');
});

test('a leak within the short run is flagged', () => {
  // 120 chats in the 60 s run: one or half an fd kept per chat, on top of the same noise, crosses the ceiling.
  const leak = (series, perChat) => series.map((v, i) => v + Math.round((i * 120 * perChat) / (series.length - 1)));
  for (const perChat of [1, 0.5]) {
    assert.match(fdsGrowth(leak(SHORT.auth, perChat), 12, IN_FLIGHT), /peak/, `auth, ${perChat} per chat`);
    assert.match(fdsGrowth(leak(SHORT.emulator, perChat), 11, IN_FLIGHT), /peak/, `emulator, ${perChat} per chat`);
  }
  // A floor that climbs steadily but stays under the ceiling.
  assert.match(fdsGrowth([13, 13, 13, 20, 30, 40, 50, 60, 70, 75, 80], 12, IN_FLIGHT), /floor rose/);
});
