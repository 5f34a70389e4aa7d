// Every action is a call to the API under /v1 (or the console's own /console/session), made
// with the session cookie, the session's CSRF token and the purpose chosen on screen. The
// console holds no token and never reaches anything but the API.
export const session = { staff: '', csrf: '', tz: 'Asia/Shanghai', idleMs: 0, purpose: '', me: null };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || String(status));
    this.status = status;
    this.code = code || '';
  }
}

let onExpired = () => {};
export function whenExpired(f) { onExpired = f; }

export async function call(method, path, { query, body, data = false, text = false } = {}) {
  if (data && !session.purpose) throw new ApiError(0, 'purpose_required', 'purpose');
  const headers = { Accept: 'application/json' };
  if (session.csrf) headers['X-Custos-CSRF'] = session.csrf;
  if (session.purpose) headers['X-Custos-Purpose'] = session.purpose;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
    const text = q.toString();
    if (text) url += `?${text}`;
  }
  const res = await fetch(url, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (text && res.ok) return res.text();
  let doc = {};
  try { doc = await res.json(); } catch (_) { doc = {}; }
  if (res.status === 401 && path !== '/console/session') onExpired();
  if (!res.ok) {
    const e = doc.error || {};
    throw new ApiError(res.status, e.code, e.message);
  }
  return doc;
}
