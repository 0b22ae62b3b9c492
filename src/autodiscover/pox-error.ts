// The Outlook-schema answer for a user who may use no Outlook protocol (none of RPC, MAPI, EWS,
// OAB): an Autodiscover error instead of an Account whose EXCH block would still name the mailbox
// server, ServerDN and MdbDN.
//
// Why an error and not an Account without Protocol blocks: Exchange has no answer of its own for
// this (it answers a mailbox with MAPI or EWS disabled normally and lets the protocol refuse later),
// and MS-OXDSCLI defines one for exactly this case, error 501: "the Autodiscover server recognizes
// the given email address but is unable to provide configuration information because the given
// email address has no configuration options" (2.2.4.1.1.3.2). Every Autodiscover client already
// handles error answers (Exchange sends 500 for an unknown address) as "no settings from here",
// while a "settings" answer without a single Protocol is one no client expects: one that accepts it
// would store a profile with no server to connect to. The Error element sits under Response, as in
// Exchange's own error answers. Time and Id are left out: both are optional, and Id is a hash of
// the answering server's name, the kind of fact this rewrite exists to hide.
export const NO_OUTLOOK_PROTOCOL_CODE = 501;

export function noOutlookProtocolAnswer(): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response>',
    '    <Error>',
    `      <ErrorCode>${NO_OUTLOOK_PROTOCOL_CODE}</ErrorCode>`,
    '      <Message>The e-mail address has no configuration options for this client.</Message>',
    '      <DebugData />',
    '    </Error>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}
