// Stands in for `@aws-sdk/credential-provider-node` in Lambda bundles (build/esbuild.cjs aliases
// it here). Lambda always hands a function its credentials in environment variables (or, with
// SnapStart and containers, through the container-credentials endpoint), so the rest of the
// default chain — SSO, INI profiles, credential_process, web identity, IMDS — never runs there,
// yet it bundles their nested STS and SSO clients: about 130 kB that every cold start parses.
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { fromHttp } from "@aws-sdk/credential-provider-http";
import { chain, memoize } from "@smithy/core/config";

type Init = NonNullable<Parameters<typeof fromEnv>[0]> & NonNullable<Parameters<typeof fromHttp>[0]>;
type CredentialProvider = ReturnType<typeof fromEnv>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

/** Same five-minute margin as the SDK's own chain: refresh before a call can fail mid-flight. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

const isExpired = (credentials: Credentials): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < EXPIRY_MARGIN_MS;

const requiresRefresh = (credentials: Credentials): boolean => credentials.expiration !== undefined;

/** The SDK's `defaultProvider` signature, reduced to the two sources Lambda actually uses. */
export const defaultProvider = (init: Init = {}): CredentialProvider =>
  memoize(
    chain(
      fromEnv(init),
      // fromHttp throws at construction when no container-credentials variable is set, so it is
      // built only when the chain reaches it; its error then tells the chain to give up cleanly.
      () => fromHttp(init)(),
    ),
    isExpired,
    requiresRefresh,
  );
