// The records stream → promotion: only a deployment that has just become verified matters.
import type { PipelineConfig } from "../config/model";
import type { Lease } from "../lambda";
import type { StreamImage } from "../events/stream";
import { recordFromImage } from "../records/store";
import { promoteVerified, type PromoteResult } from "./promote";

export async function onRecordChange(oldImage: StreamImage, newImage: StreamImage, config: PipelineConfig, lease: Lease): Promise<PromoteResult | undefined> {
  const before = recordFromImage(oldImage);
  const after = recordFromImage(newImage);
  if (after?.kind !== "deployment" || after.status !== "verified" || before?.status === "verified") return undefined;
  return promoteVerified(after, config, lease);
}
