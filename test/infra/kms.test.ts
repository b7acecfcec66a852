// A destination whose parameters or secrets a customer-managed KMS key encrypts: the stack's
// policy must let Parameter Store and Secrets Manager decrypt them for the functions, and nothing
// else. The statements come from infra/stack.cjs, as osls resolves them (in a plain node: tsx's
// loader cannot run inside jest).
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

type Statement = { Sid: string; Action: string[]; Resource: unknown[]; Condition?: unknown };

function statementsFor(configText: string): Statement[] {
  const dir = mkdtempSync(join(tmpdir(), "stevedore-kms-"));
  try {
    cpSync(join(ROOT, "examples", "templates"), join(dir, "templates"), { recursive: true });
    writeFileSync(join(dir, "stevedore.yml"), configText);
    const run = spawnSync(process.execPath, ["-e", "process.stdout.write(JSON.stringify(require('./infra/stack.cjs').compute().iamStatements))"], {
      cwd: ROOT, encoding: "utf8", timeout: 30_000, env: { ...process.env, STEVEDORE_CONFIG: join(dir, "stevedore.yml") },
    });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as Statement[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const example = readFileSync(join(ROOT, "examples", "stevedore.yml"), "utf8");

describe("kms:Decrypt for notification secrets", () => {
  it("is granted on the key a destination names, only through Parameter Store and Secrets Manager", () => {
    const text = example.replace("    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n", `    secret: secretsmanager:stevedore/shop/audit-webhook-secret\n    kmsKey: ${KEY}\n`);
    expect(text).toContain(`kmsKey: ${KEY}`);
    const decrypt = statementsFor(text).filter((s) => s.Action.includes("kms:Decrypt"));
    expect(decrypt).toEqual([{
      Sid: "DecryptNotificationSecrets", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [KEY],
      Condition: { StringEquals: { "kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"] } },
    }]);
  });

  it("is not granted at all when no destination names a key", () => {
    expect(statementsFor(example).some((s) => s.Action.some((a) => a.startsWith("kms:")))).toBe(false);
  });
});
