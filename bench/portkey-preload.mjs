// Loaded into the Portkey gateway process only. On Node, Portkey's streaming path appends
// headers to the upstream fetch Response, whose headers are immutable, and answers 500
// (Portkey-AI/gateway#1389, #1550). Its proposed fix (#1551) re-wraps the response; this
// does the same at fetch, so Portkey streams as it does in production. Cost: one object.
const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await upstreamFetch(...args);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
};
