// Exchange's diagnostic response headers that name internal servers, versions and proxy state:
// data for the edge configuration (edge.responseHeaders), applied by src/policy/response-headers.ts.

/**
 * Sources: Exchange's own header names (Microsoft.Exchange.Net.Protocols.WellKnownHeader:
 * X-FEServer, X-BEServer, X-CalculatedBETarget, X-TargetServer, X-SourceCafeServer, X-DiagInfo,
 * X-BEServerRoutingError, X-DBMountedOnServer, X-CasErrorCode, X-Backend-Diag-*, the
 * X-FrontEnd-/X-BackEnd- timings; the HttpProxy's NativeProxyStatusHeaders X-BackEndHttpStatus,
 * X-ProxyError*; the probes' X-FailureContext), headers seen on real OWA answers (msxfaq.de
 * "Exchange HTTP Header": X-CalculatedFETarget, X-BeSku, X-OWA-DiagnosticsInfo,
 * X-Proxy-BackendServerStatus, X-Proxy-RoutingCorrectness, X-FirstHopCafeEFZ) and the OWASP
 * Secure Headers Project's headers_remove.json (Server, X-Powered-By, X-AspNet-Version,
 * X-AspNetMvc-Version, X-SourceFiles, X-OWA-Version, X-FEServer, X-BEServer, X-CalculatedBETarget,
 * X-DiagInfo). Kept: request-id (a per-answer correlation id Microsoft support asks for; it names
 * no server), and the protocol headers clients rely on:
 * X-ServerApplication (MAPI/HTTP version negotiation), MS-Server-ActiveSync, X-MS-Diagnostics
 * (OAuth error reasons), client-request-id / return-client-request-id (EWS clients' own ids).
 */
export const DEFAULT_STRIPPED_HEADERS: readonly string[] = [
  'Server', 'X-Powered-By', 'X-AspNet-Version', 'X-AspNetMvc-Version', 'X-SourceFiles',
  'X-FEServer', 'X-BEServer', 'X-CalculatedBETarget', 'X-CalculatedFETarget', 'X-TargetServer', 'X-SourceCafeServer',
  'X-DiagInfo', 'X-BEServerRoutingError', 'X-DBMountedOnServer', 'X-CasErrorCode', 'X-FailureContext', 'X-BeSku',
  'X-BackEndHttpStatus', 'X-ProxyErrorHResult', 'X-ProxyErrorLabel', 'X-ProxyErrorMessage',
  'X-Proxy-BackendServerStatus', 'X-Proxy-RoutingCorrectness', 'X-FirstHopCafeEFZ',
  'X-FrontEnd-Begin', 'X-FrontEnd-End', 'X-FrontEnd-Handler-Begin', 'X-BackEnd-Begin', 'X-BackEnd-End', 'X-Backend-Diag-*',
  'X-OWA-Version', 'X-OWA-DiagnosticsInfo',
];

