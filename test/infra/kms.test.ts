// A destination whose parameters or secrets a customer-managed KMS key encrypts: the stack's
// policy must let Parameter Store and Secrets Manager decrypt them for the functions, and nothing
// else. The statements are each function's role as infra/iam.ts makes it for osls.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rolesOf } from "../../infra/iam";
import { inventoryOf } from "../../infra/inventory";
import { loadConfig } from "../../shared/config/load";
import { allows, type Statement as SandboxStatement } from "../../sandbox/iam";
import { FIXTURE_CONFIG, FIXTURE_TEMPLATES } from "../support/config";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

type Statement = { Sid: string; Action: string[]; Resource: unknown[]; Condition?: unknown };
type Json = any; // CloudFormation resources

/** Role logical id → every statement of its inline and managed policies. */
function statementsFor(configText: string): Record<string, Statement[]> {
  const dir = mkdtempSync(join(tmpdir(), "stevedore-kms-"));
  try {
    cpSync(FIXTURE_TEMPLATES, join(dir, "templates"), { recursive: true });
    writeFileSync(join(dir, "stevedore.yml"), configText);
    const file = join(dir, "stevedore.yml");
    const { resources } = rolesOf(inventoryOf(loadConfig(file), file), "test") as { resources: Record<string, Json> };
    return Object.fromEntries(
      Object.entries(resources)
        .filter(([, r]) => r.Type === "AWS::IAM::Role")
        .map(([id, r]) => [
          id,
          [
            ...r.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement),
            ...(r.Properties.ManagedPolicyArns ?? []).flatMap((ref: Json) => resources[ref.Ref].Properties.PolicyDocument.Statement),
          ],
        ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The fixture's audit destination names a key of its own (so the sandbox's worlds read it
// through kms:Decrypt); these cases start from the fixture without it.
const fixture = readFileSync(FIXTURE_CONFIG, "utf8");
const example = fixture.replace(/^ *kmsKey: .*\n/gm, "");

describe("kms:Decrypt for notification secrets", () => {
  it("is granted on the key a destination names, only through Parameter Store and Secrets Manager", () => {
    const text = example.replace(
      "    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n",
      `    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n    kmsKey: ${KEY}\n`,
    );
    expect(text).toContain(`kmsKey: ${KEY}`);
    const roles = statementsFor(text);
    // Only notify reads notification secrets.
    expect(Object.keys(roles).filter((id) => roles[id]!.some((s) => s.Action.includes("kms:Decrypt")))).toEqual(["NotifyRole"]);
    const decrypt = roles.NotifyRole!.filter((s) => s.Action.includes("kms:Decrypt"));
    expect(decrypt).toEqual([
      {
        Sid: "DecryptNotificationSecrets",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [KEY],
        Condition: { StringEquals: { "kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"] } },
      },
    ]);
  });

  it("lets notify decrypt as the sandbox's IAM evaluates it: the named key, through Parameter Store or Secrets Manager only", () => {
    const text = example.replace(
      "    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n",
      `    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n    kmsKey: ${KEY}\n`,
    );
    const statements = statementsFor(text).NotifyRole!.map(({ Sid: _, ...s }) => s) as SandboxStatement[];
    const decrypt = (resource: string, via: string) => allows(statements, { action: "kms:Decrypt", resource, context: { "kms:ViaService": via } });
    expect(decrypt(KEY, "ssm.eu-west-1.amazonaws.com")).toBe(true);
    expect(decrypt(KEY, "secretsmanager.eu-west-1.amazonaws.com")).toBe(true);
    expect(decrypt(KEY, "s3.eu-west-1.amazonaws.com")).toBe(false);
    expect(decrypt(KEY.replace("1234abcd", "99999999"), "ssm.eu-west-1.amazonaws.com")).toBe(false);
  });

  it("is granted on the config-wide key, for every destination without its own", () => {
    const text = example.replace("\napps:\n", `\nkmsKey: ${KEY}\n\napps:\n`);
    expect(text).toContain(`kmsKey: ${KEY}`);
    const decrypt = statementsFor(text).NotifyRole!.filter((s) => s.Action.includes("kms:Decrypt"));
    expect(decrypt.map((s) => s.Resource)).toEqual([[KEY]]);
  });

  it("is granted on the key the fixture's audit destination names (what the sandbox's worlds decrypt with)", () => {
    expect(example).not.toBe(fixture);
    const decrypt = statementsFor(fixture).NotifyRole!.filter((s) => s.Action.includes("kms:Decrypt"));
    expect(decrypt.map((s) => s.Resource)).toEqual([["arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b"]]);
  });

  it("is not granted at all when no destination names a key", () => {
    const roles = Object.values(statementsFor(example));
    expect(roles).toHaveLength(8);
    expect(roles.flat().some((s) => s.Action.some((a) => a.startsWith("kms:")))).toBe(false);
  });
});
