// The records stream → promotion: only a deployment that has just become verified matters.
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { PipelineConfig } from "../config/model";
import type { DeployOptions } from "../deploy/deploy";
import type { StreamImage } from "../events/stream";
import type { DeploymentRecord } from "../records/model";
import { promoteVerified, type PromoteResult } from "./promote";

export async function onRecordChange(oldImage: StreamImage, newImage: StreamImage, config: PipelineConfig, options: DeployOptions): Promise<PromoteResult | undefined> {
  const before = oldImage && (unmarshall(oldImage as Record<string, AttributeValue>) as Partial<DeploymentRecord>);
  const after = newImage && (unmarshall(newImage as Record<string, AttributeValue>) as Partial<DeploymentRecord>);
  if (after?.kind !== "deployment" || after.status !== "verified" || before?.status === "verified") return undefined;
  return promoteVerified(after as DeploymentRecord, config, options);
}
