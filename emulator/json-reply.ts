// The common JSON reply of taosAdapter's WebSocket endpoints: code, message, action, req_id, timing, then the
// action's own fields. req_id is a u64 echoed exactly, so it is spliced in as text (a JS number would round it).
const REQ = "\u0000REQ\u0000";

export function jsonReplyText(action: string, reqId: bigint, timing: number, extra: Record<string, unknown>, code = 0, message = ""): string {
  const body = JSON.stringify({ code, message, action, req_id: REQ, timing, ...extra });
  return body.replace('"\\u0000REQ\\u0000"', reqId.toString());
}
