// Records every status a node under test sets (node-red-node-test-helper keeps only the latest).
import helper from "./helper";

export type RecordedStatus = { fill?: string; shape?: string; text?: string };

export function recordStatuses(id: string): RecordedStatus[] {
  const n = helper.getNode(id) as unknown as { status: (s: RecordedStatus) => void };
  const seen: RecordedStatus[] = [];
  const orig = n.status.bind(n);
  n.status = (s: RecordedStatus) => {
    seen.push(s);
    orig(s);
  };
  return seen;
}
