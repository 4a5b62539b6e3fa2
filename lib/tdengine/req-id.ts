// Request ids: unique and non-zero for the whole process, so an id is never reused, not even across a reconnect
// (a late reply on a dead socket can never be matched to a new request). Kept <= 2^53-1 so JSON numbers are exact.
const MAX = Number.MAX_SAFE_INTEGER;
let last = 0;

export function nextReqId(): number {
  last = last >= MAX ? 1 : last + 1;
  return last;
}
