// Reads a destination's URL or signing secret at run time. Both stores go through SSM
// GetParameter: a Secrets Manager secret is readable as /aws/reference/secretsmanager/<id>,
// so the bundle carries one small client instead of two.
//
// Values are cached per container for a few minutes (a rotated secret is picked up soon after)
// and are never logged; failures are not cached.
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";
import type { SecretRef } from "../config/model";

const TTL_MS = 5 * 60 * 1000;

const cache = new Map<string, { expires: number; value: Promise<string> }>();

export async function resolveSecret(ref: SecretRef, now: () => number = Date.now): Promise<string> {
  const { name, region } = parameterOf(ref);
  const key = `${region ?? ""}|${name}`;
  const hit = cache.get(key);
  if (hit && hit.expires > now()) return hit.value;
  // The promise is cached, so destinations sharing a secret make one call between them.
  const value = read(name, region);
  cache.set(key, { expires: now() + TTL_MS, value });
  value.catch(() => {
    if (cache.get(key)?.value === value) cache.delete(key);
  });
  return value;
}

/** Forgets every cached value (tests; a container never needs it). */
export function clearSecretCache(): void {
  cache.clear();
}

/** The SSM parameter name for a reference, and the region to ask when the reference is an ARN. */
export function parameterOf(ref: SecretRef): { name: string; region?: string } {
  if (ref.store === "ssm") return { name: ref.name, region: regionOfArn(ref.name) };
  return { name: `/aws/reference/secretsmanager/${ref.id}`, region: regionOfArn(ref.id) };
}

function regionOfArn(value: string): string | undefined {
  return /^arn:aws[a-z-]*:(?:ssm|secretsmanager):([a-z0-9-]+):/.exec(value)?.[1];
}

async function read(name: string, region: string | undefined): Promise<string> {
  const output = await call("ssm:GetParameter", () => clientFor(SSMClient, region).send(new GetParameterCommand({ Name: name, WithDecryption: true })));
  const value = output.Parameter?.Value;
  if (!value) throw new TerminalAwsError("ssm:GetParameter", "EmptyParameter", `${name} has no value`);
  return value;
}
