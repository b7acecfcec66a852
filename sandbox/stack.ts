// What the sandbox takes from serverless.yml, so that the local pipeline is built from the same
// declarations as the deployed one, not from a copy of them.
import { readFileSync } from "node:fs";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { load, Schema, Type } from "js-yaml";

// CloudFormation's short-form tags (!Ref, !GetAtt, …) as their long forms.
const intrinsic = (tag: string, kinds: ("scalar" | "sequence" | "mapping")[]) =>
  kinds.map((kind) => new Type(`!${tag}`, {
    kind,
    construct: (data: unknown) => {
      const name = tag === "Ref" || tag === "Condition" ? tag : `Fn::${tag}`;
      return { [name]: tag === "GetAtt" && typeof data === "string" ? data.split(".") : data };
    },
  }));

const CLOUDFORMATION = new Schema(["Ref", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs", "Condition"]
  .flatMap((tag) => intrinsic(tag, ["scalar", "sequence", "mapping"])));

export interface ServerlessFile {
  service: string;
  provider: Record<string, unknown>;
  functions: Record<string, { handler: string; timeout?: number; events?: Record<string, unknown>[] } & Record<string, unknown>>;
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

export function readServerless(path = "serverless.yml"): ServerlessFile {
  return load(readFileSync(path, "utf8"), { schema: CLOUDFORMATION }) as ServerlessFile;
}

/** The records table as serverless.yml declares it, as a CreateTable request. */
export function recordsTable(tableName: string, file: ServerlessFile = readServerless()): CreateTableCommandInput {
  const resource = file.resources.Resources.RecordsTable;
  if (resource?.Type !== "AWS::DynamoDB::Table") throw new Error("serverless.yml declares no RecordsTable of type AWS::DynamoDB::Table");
  // CloudFormation-only properties (recovery, encryption, retention) mean nothing locally.
  const { PointInTimeRecoverySpecification: _pitr, SSESpecification: _sse, StreamSpecification: stream, ...properties } = resource.Properties;
  return {
    ...(properties as Omit<CreateTableCommandInput, "TableName">),
    TableName: tableName,
    ...(stream ? { StreamSpecification: { StreamEnabled: true, ...(stream as object) } } : {}),
  };
}
