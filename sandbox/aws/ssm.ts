// SSM Parameter Store for the sandbox, with Secrets Manager behind it the way AWS puts it there:
// a secret is readable through GetParameter as /aws/reference/secretsmanager/<id> (with
// WithDecryption), which is how shared/notify/secrets.ts reads notification secrets.
import { createHash, randomBytes } from "node:crypto";
import { AwsError, type AwsRequest, type AwsResponse } from "./server";

export const SSM_PREFIX = "AmazonSSM";

const SECRET_REFERENCE = "/aws/reference/secretsmanager/";

type ParameterType = "String" | "StringList" | "SecureString";

/** A customer-managed KMS key a value is decrypted with, and the service that asks KMS for it. */
export interface DecryptionKey {
  keyId: string;
  via: "ssm" | "secretsmanager";
}

interface Parameter {
  name: string;
  type: ParameterType;
  value: string;
  /** The customer-managed KMS key a SecureString is encrypted with; none: the AWS managed key. */
  keyId?: string;
  version: number;
  modified: number;
}

interface Secret {
  name: string;
  arn: string;
  value: string;
  /** The customer-managed KMS key it is encrypted with; none: the AWS managed key. */
  keyId?: string;
  version: string;
  modified: number;
}

export interface SsmOptions {
  account?: string;
  region?: string;
}

export class LocalSsm {
  readonly account: string;
  readonly region: string;
  private readonly parameters = new Map<string, Parameter>();
  private readonly secrets = new Map<string, Secret>();

  constructor(options: SsmOptions = {}) {
    this.account = options.account ?? "123456789012";
    this.region = options.region ?? "eu-west-1";
  }

  // ── control ─────────────────────────────────────────────────────────────────────────────

  /** Creates or overwrites a parameter (no Overwrite check: this is the operator's hand). */
  putParameter(name: string, value: string, type: ParameterType = "SecureString", keyId?: string): void {
    const before = this.parameters.get(name);
    this.parameters.set(name, { name, type, value, keyId, version: (before?.version ?? 0) + 1, modified: Date.now() });
  }

  /** Creates or updates a Secrets Manager secret; returns its ARN (with AWS's random suffix). */
  putSecret(id: string, value: string, keyId?: string): string {
    const before = this.secrets.get(id);
    const arn = before?.arn ?? `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${id}-${randomSuffix()}`;
    this.secrets.set(id, { name: id, arn, value, keyId, version: randomBytes(16).toString("hex"), modified: Date.now() });
    return arn;
  }

  deleteParameter(name: string): void {
    this.parameters.delete(name);
  }

  // ── API ─────────────────────────────────────────────────────────────────────────────────

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    switch (request.operation) {
      case "GetParameter":
        return { status: 200, body: this.getParameter(request.body) };
      case "PutParameter":
        return { status: 200, body: this.apiPutParameter(request.body) };
      case "DeleteParameter": {
        const name = this.nameOf(required(request.body, "Name"));
        if (!this.parameters.delete(name)) throw notFound(name);
        return { status: 200, body: {} };
      }
      default:
        throw new AwsError("UnknownOperationException", `the sandbox's SSM does not implement ${request.operation}`);
    }
  };

  private getParameter(body: Record<string, unknown>): unknown {
    const requested = required(body, "Name");
    const decrypt = body.WithDecryption === true;
    const name = this.nameOf(requested);
    if (name.startsWith(SECRET_REFERENCE)) {
      if (!decrypt) throw new AwsError("ValidationException", "WithDecryption flag must be True for retrieving a Secret Manager secret.");
      const secret = this.secret(name.slice(SECRET_REFERENCE.length));
      if (!secret) throw notFound(requested);
      return {
        Parameter: {
          Name: name,
          Type: "SecureString",
          Value: secret.value,
          Version: 0,
          SourceResult: JSON.stringify({ ARN: secret.arn, Name: secret.name, VersionId: secret.version, VersionStages: ["AWSCURRENT"] }),
          LastModifiedDate: secret.modified / 1000,
          ARN: secret.arn,
          DataType: "text",
        },
      };
    }
    const parameter = this.parameters.get(name);
    if (!parameter) throw notFound(requested);
    return {
      Parameter: {
        Name: parameter.name,
        Type: parameter.type,
        // Without decryption a SecureString comes back as its (KMS-encrypted) ciphertext.
        Value: parameter.type === "SecureString" && !decrypt ? ciphertext(parameter.value) : parameter.value,
        Version: parameter.version,
        LastModifiedDate: parameter.modified / 1000, // epoch seconds, as on the wire
        ARN: this.parameterArn(parameter.name),
        DataType: "text",
      },
    };
  }

  private apiPutParameter(body: Record<string, unknown>): unknown {
    const name = this.nameOf(required(body, "Name"));
    const value = body.Value;
    if (typeof value !== "string" || value.length === 0) {
      throw new AwsError(
        "ValidationException",
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (/^\/?(aws|ssm)/i.test(name)) {
      throw new AwsError("ValidationException", "No access to reserved parameter name: " + name + ".");
    }
    const before = this.parameters.get(name);
    if (before && body.Overwrite !== true) {
      throw new AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
    }
    const type = (body.Type ?? before?.type ?? "String") as ParameterType;
    if (!["String", "StringList", "SecureString"].includes(type)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    const version = (before?.version ?? 0) + 1;
    this.parameters.set(name, { name, type, value, version, modified: Date.now() });
    return { Version: version, Tier: "Standard" };
  }

  /** A parameter's name from a name or an ARN (`arn:aws:ssm:<region>:<account>:parameter/<name>`). */
  private nameOf(requested: string): string {
    const m = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter(\/.*)$/.exec(requested);
    if (!m) return requested;
    const path = m[1] as string;
    // "parameter/foo" is the ARN of "foo" as well as "/foo": a hierarchy always starts with "/".
    if (this.parameters.has(path) || path.slice(1).includes("/")) return path;
    return this.parameters.has(path.slice(1)) ? path.slice(1) : path;
  }

  private parameterArn(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.account}:parameter${name.startsWith("/") ? name : `/${name}`}`;
  }

  /** A secret's full ARN (with its random suffix), by name or ARN: what IAM authorizes against. */
  secretArn(id: string): string | undefined {
    return this.secret(id)?.arn;
  }

  /**
   * The customer-managed KMS key that decrypting `name` (a GetParameter name or ARN) uses, and the
   * service that calls KMS for it: Parameter Store for a SecureString, Secrets Manager for a secret
   * read through its /aws/reference/ path. Undefined for the AWS managed keys, whose key policy
   * lets the account's principals use them through the service without a grant.
   */
  decryptionKey(name: string): DecryptionKey | undefined {
    const path = this.nameOf(name);
    if (path.startsWith(SECRET_REFERENCE)) {
      const keyId = this.secret(path.slice(SECRET_REFERENCE.length))?.keyId;
      return keyId ? { keyId, via: "secretsmanager" } : undefined;
    }
    const parameter = this.parameters.get(path);
    return parameter?.type === "SecureString" && parameter.keyId ? { keyId: parameter.keyId, via: "ssm" } : undefined;
  }

  /** A secret by name, full ARN, or ARN without its random suffix (as Secrets Manager accepts). */
  private secret(id: string): Secret | undefined {
    const byName = this.secrets.get(id);
    if (byName) return byName;
    return [...this.secrets.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id);
  }
}

function required(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") {
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value null at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function notFound(name: string): AwsError {
  return new AwsError("ParameterNotFound", `Parameter ${name} not found.`);
}

function ciphertext(value: string): string {
  return Buffer.concat([Buffer.from([1, 2, 3, 0, 120]), randomBytes(24), createHash("sha256").update(value).digest()]).toString("base64");
}

function randomSuffix(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join("");
}
