// Applying a fact to a stored record: decide, then write only if the record is still the
// version the decision was made on. On a lost race, read the record again and decide again,
// so a fact is never lost and never applied twice.
import { RetryableAwsError } from "../errors";
import { recordKeyOf, type DeploymentRecord } from "./model";
import { decide, type Fact, type Outcome } from "./state";
import { getRecord, save } from "./store";

export interface Applied extends Outcome {
  /**
   * Whether this call wrote the record. False when the fact changed nothing, including when a
   * concurrent writer (a duplicate delivery, an overlapping sweep) already applied it: only the
   * writer may report the change.
   */
  written: boolean;
}

export async function advance(record: DeploymentRecord, fact: Fact): Promise<Applied> {
  let current = record;
  for (let attempt = 0; attempt < 5; attempt++) {
    const outcome = decide(current, fact);
    if (outcome.record === current) return { ...outcome, written: false }; // nothing changes: write nothing
    if (await save(outcome.record, current.version)) return { ...outcome, written: true };
    const latest = await getRecord(current.targetKey, recordKeyOf(current));
    if (!latest) return { record: current, actions: [], written: false };
    current = latest;
  }
  throw new RetryableAwsError("PutItem", "VersionConflict", `record ${record.id} kept changing under us`);
}
