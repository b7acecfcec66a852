// The AWS quotas the stack is sized against. They are checked offline, when osls resolves the
// stack, so that `osls package` refuses a config CloudFormation would fail on halfway through a
// deploy, and the tests measure the packaged template against the same figures.

/**
 * IAM counts policy sizes in non-whitespace characters
 * (IAM User Guide, "IAM and AWS STS quotas").
 */
export const IAM = {
  /** The aggregate of every inline policy of one role. */
  inlinePolicyChars: 10_240,
  /** One customer-managed policy. */
  managedPolicyChars: 6_144,
  /** Managed policies attached to one role: the default quota (adjustable up to 20). */
  managedPoliciesPerRole: 10,
} as const;

/** EventBridge User Guide, "Amazon EventBridge quotas". */
export const EVENTBRIDGE = {
  /** Characters of one rule's event pattern (the default; at most 4,096 with an increase). */
  patternChars: 2_048,
} as const;

/** What IAM counts: the JSON text of a document without any whitespace. */
export const iamLength = (document: unknown): number => JSON.stringify(document).replace(/\s+/g, "").length;

/** What EventBridge counts: the pattern's JSON text as CloudFormation sends it (no indentation). */
export const patternLength = (pattern: unknown): number => JSON.stringify(pattern).length;
