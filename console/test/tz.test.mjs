// Unit test of console/src/tz.js (CTest console_tz_test): the audit search's days are sent
// as instants in the company's time zone, not as UTC days.
import assert from 'node:assert/strict';
import { dayRange, offsetMinutes, startOfDay } from '../src/tz.js';

const cases = [];
const test = (name, f) => cases.push([name, f]);

test('Asia/Shanghai: a day starts at 00:00+08:00 and the last day is included whole', () => {
  assert.deepEqual(dayRange('2026-12-04', '2026-12-04', 'Asia/Shanghai'),
    { from: '2026-12-04T00:00:00+08:00', to: '2026-12-05T00:00:00+08:00' });
  // 00:00 to 08:00 local on the 4th is the 3rd in UTC: inside the range as instants.
  const from = Date.parse('2026-12-04T00:00:00+08:00');
  assert.equal(from, Date.UTC(2026, 11, 3, 16, 0, 0));
});
test('a month and a year end roll over', () => {
  assert.equal(dayRange('', '2026-12-31', 'Asia/Shanghai').to, '2027-01-01T00:00:00+08:00');
  assert.equal(dayRange('2026-02-28', '', 'Asia/Shanghai').from, '2026-02-28T00:00:00+08:00');
  assert.equal(dayRange('', '', 'Asia/Shanghai').from, '');
});
test('zones west of UTC, with half hours, and daylight saving', () => {
  assert.equal(startOfDay('2026-07-01', 'America/New_York'), '2026-07-01T00:00:00-04:00');
  assert.equal(startOfDay('2026-12-01', 'America/New_York'), '2026-12-01T00:00:00-05:00');
  assert.equal(startOfDay('2026-12-04', 'Asia/Kolkata'), '2026-12-04T00:00:00+05:30');
  assert.equal(startOfDay('2026-12-04', 'UTC'), '2026-12-04T00:00:00+00:00');
  // The day the clocks go forward in New York (8 March 2026): midnight is still -05:00.
  assert.equal(startOfDay('2026-03-08', 'America/New_York'), '2026-03-08T00:00:00-05:00');
  assert.equal(offsetMinutes('Asia/Shanghai', Date.UTC(2026, 0, 1)), 480);
});

let failed = 0;
for (const [name, f] of cases) {
  try { f(); console.log(`ok - ${name}`); } catch (e) { failed += 1; console.log(`not ok - ${name}\n${e.message}`); }
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
