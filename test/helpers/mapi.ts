// The headers Outlook sends on MAPI over HTTP requests (MS-OXCMAPIHTTP), for tests that hold a
// NotificationWait or make a Connect through the gateway.
export function mapiHeaders(authorization: string, type: string, cookie?: string): Record<string, string> {
  return {
    Authorization: authorization,
    'Content-Type': 'application/mapi-http',
    'X-RequestType': type,
    'X-RequestId': '{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1',
    'X-ClientInfo': '{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}:1',
    'X-ClientApplication': 'Outlook/16.0.10000.1000',
    ...(cookie ? { Cookie: cookie } : {}),
  };
}
