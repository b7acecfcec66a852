import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { RetryableAwsError, TerminalAwsError } from "../../shared/errors";
import { clearSecretCache, resolveSecret } from "../../shared/notify/secrets";

process.env.AWS_REGION = "eu-west-1";
process.env.AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
process.env.AWS_SECRET_ACCESS_KEY = "test-secret-access-key";

const ssm = mockClient(SSMClient);

function parameter(value: string) {
  return { Parameter: { Name: "x", Type: "SecureString" as const, Value: value } };
}

function throttled(): Error {
  return Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
}

beforeEach(() => {
  ssm.reset();
  clearSecretCache();
});

describe("resolveSecret", () => {
  it("reads an SSM parameter by name, decrypted", async () => {
    ssm
      .on(GetParameterCommand, { Name: "/stevedore/shop/slack-webhook-url", WithDecryption: true })
      .resolves(parameter("https://hooks.slack.com/services/T/B/X"));
    await expect(resolveSecret({ store: "ssm", name: "/stevedore/shop/slack-webhook-url" })).resolves.toBe("https://hooks.slack.com/services/T/B/X");
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it("reads a Secrets Manager secret through /aws/reference/secretsmanager/", async () => {
    ssm.on(GetParameterCommand).resolves(parameter("s3cret"));
    await expect(resolveSecret({ store: "secretsmanager", id: "stevedore/shop/audit-webhook-secret" })).resolves.toBe("s3cret");
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: "/aws/reference/secretsmanager/stevedore/shop/audit-webhook-secret",
      WithDecryption: true,
    });
  });

  it("asks the region of a parameter or secret given by ARN", async () => {
    ssm.on(GetParameterCommand).resolves(parameter("v"));
    const parameterArn = "arn:aws:ssm:us-east-1:123456789012:parameter/stevedore/url";
    const secretArn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:stevedore/key-AbCdEf";
    await resolveSecret({ store: "ssm", name: parameterArn });
    await resolveSecret({ store: "secretsmanager", id: secretArn });
    await resolveSecret({ store: "ssm", name: "/stevedore/url" });
    const calls = ssm.commandCalls(GetParameterCommand);
    const regions = await Promise.all(calls.map((c) => (c.thisValue as SSMClient).config.region()));
    expect(calls.map((c) => c.args[0].input.Name)).toEqual([parameterArn, `/aws/reference/secretsmanager/${secretArn}`, "/stevedore/url"]);
    expect(regions).toEqual(["us-east-1", "eu-central-1", "eu-west-1"]);
  });

  it("serves a second read from the cache", async () => {
    ssm.on(GetParameterCommand).resolves(parameter("v1"));
    const ref = { store: "ssm", name: "/stevedore/url" } as const;
    await resolveSecret(ref);
    await expect(resolveSecret(ref)).resolves.toBe("v1");
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it("makes one call for concurrent reads of the same secret", async () => {
    ssm.on(GetParameterCommand).resolves(parameter("v1"));
    const ref = { store: "ssm", name: "/stevedore/url" } as const;
    await Promise.all([resolveSecret(ref), resolveSecret(ref)]);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it("reads again after five minutes (a rotated value is picked up)", async () => {
    ssm.on(GetParameterCommand).resolvesOnce(parameter("old")).resolves(parameter("new"));
    const ref = { store: "ssm", name: "/stevedore/url" } as const;
    let now = 1_000_000;
    await resolveSecret(ref, () => now);
    now += 4 * 60_000;
    await expect(resolveSecret(ref, () => now)).resolves.toBe("old");
    now += 61_000;
    await expect(resolveSecret(ref, () => now)).resolves.toBe("new");
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it("does not cache a failure", async () => {
    ssm.on(GetParameterCommand).rejectsOnce(throttled()).resolves(parameter("v"));
    const ref = { store: "ssm", name: "/stevedore/url" } as const;
    await expect(resolveSecret(ref)).rejects.toBeInstanceOf(RetryableAwsError);
    await expect(resolveSecret(ref)).resolves.toBe("v");
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it("turns a missing parameter into a terminal error naming the call, not the value", async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error("Parameter /stevedore/url not found."), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } }));
    const error = await resolveSecret({ store: "ssm", name: "/stevedore/url" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalAwsError);
    expect((error as TerminalAwsError).message).toBe("ssm:GetParameter failed: ParameterNotFound: Parameter /stevedore/url not found.");
  });
});
