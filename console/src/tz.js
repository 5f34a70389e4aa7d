// Days in the company's time zone ([server] time_zone, session.tz) as exact instants for the
// API: the audit search reads a bare YYYY-MM-DD as a UTC day (docs/audit.md), so the console
// sends each bound with the zone's offset on that day instead. Pure functions (unit test:
// console/test/tz.test.mjs).

// The offset of `zone` at the instant `ms`, in minutes east of UTC.
export function offsetMinutes(zone, ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const n = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

function offsetText(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// "2026-12-04" in `zone` -> "2026-12-04T00:00:00+08:00": the day's local midnight with the
// offset in force then (a second pass settles a day on which the offset changes).
export function startOfDay(day, zone) {
  const [y, m, d] = day.split('-').map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  let off = offsetMinutes(zone, utcMidnight);
  off = offsetMinutes(zone, utcMidnight - off * 60000);
  return `${day}T00:00:00${offsetText(off)}`;
}

function nextDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

// The audit search's bounds for the days chosen (either may be empty): `from` the first day's
// local midnight, `to` the local midnight after the last day (an instant `to` excludes), so
// the last day is included as a whole, as the CLI's --until includes a UTC day.
export function dayRange(fromDay, toDay, zone) {
  return {
    from: fromDay ? startOfDay(fromDay, zone) : '',
    to: toDay ? startOfDay(nextDay(toDay), zone) : '',
  };
}
