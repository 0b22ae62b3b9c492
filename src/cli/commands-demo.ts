// `portcullis demo`: the lab Exchange, the gateway and a DNS responder for lab.example, with the
// demo directory. Its JSON log goes to a file in the state folder, so the banner on the terminal is
// never interleaved with log lines.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { formatProblem } from '../yaml/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { startLab } from '../lab/lab-server.js';
import { ensureDemoPki } from '../lab/demo-pki.js';
import { labZone, startDnsResponder } from '../lab/dns-responder.js';
import { labOptions } from './lab-defaults.js';
import { fail, serve } from './commands-run.js';
import { stopOnSignals } from './stop-signals.js';
import { listenFailure } from './start-errors.js';
import { DEMO_CONFIG, DEMO_DIRECTORY, DEMO_PORTS, type DemoSettings, STATE_ENV, demoConfigFile, demoSettings, demoUsers, ensureDemoSecondFactorKey } from './demo-setup.js';

export interface BannerFacts {
  readonly settings: DemoSettings;
  readonly labUrl: string;
  /** Paths as the banner prints them (relative to the current folder). */
  readonly ca: string;
  readonly config: string;
  readonly log: string;
  readonly token: string | undefined;
  readonly adminUrl: string | undefined;
  readonly users: ReturnType<typeof demoUsers>;
  /** What this run made afresh: the CA, or nothing ("kept"). */
  readonly newCa: boolean;
}

/** The banner: every command in it runs as printed, from the folder the demo was started in. */
export function demoBanner(b: BannerFacts): string {
  const gw = `https://127.0.0.1:${b.settings.port}`;
  const pw = b.users.password ?? '<password>';
  const d = b.users.domain;
  const trust = b.newCa ? `new demo CA ${b.ca}: trust it once, later runs keep it` : `demo CA ${b.ca} kept from an earlier run`;
  return `
${pc.bold('Portcullis demo')}: lab Exchange on ${b.labUrl}, gateway on ${gw} (external zone)
Users ${b.users.names} (domain ${d}, password ${pw}); ${trust}.
Log (JSON lines): ${b.log}. In another terminal, in this folder, try:

  curl -s --cacert ${b.ca} --ntlm -u '${d}\\alice:${pw}' ${gw}/EWS/Exchange.asmx -i
  curl -s --cacert ${b.ca} -u 'bob@lab.example:${pw}' ${gw}/EWS/Exchange.asmx -i
  curl -s --cacert ${b.ca} --ntlm -u '${d}\\alice:${pw}' -H 'Content-Type: text/xml' -H 'X-MapiHttpCapability: 1' \\
       --data '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@lab.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>' \\
       ${gw}/autodiscover/autodiscover.xml
  curl -s --cacert ${b.ca} -i ${gw}/ecp/        ${pc.dim('# refused from the external zone')}
  curl -s --cacert ${b.ca} --ntlm -u '${d}\\carol:${pw}' -i ${gw}/EWS/Exchange.asmx   ${pc.dim('# carol: denied, Exchange never sees her login')}
  npx portcullis policy explain --user '${d}\\bob' --protocol mapi --zone external --admin -c ${b.config}
  npx portcullis revoke '${d}\\bob' -c ${b.config}          ${pc.dim("# cuts bob's open connections now (--undo lifts it)")}
  echo '${pw}' | npx portcullis doctor https://mail.lab.example:${b.settings.port} --resolver 127.0.0.1:${b.settings.dnsPort} --ca ${b.ca} \\
       --email alice@lab.example --user '${d}\\alice' --password-stdin --protocols autodiscover,rpc,mapi,ews

Browser sign-in: https://localhost:${b.settings.port}/owa/ as ${d}\\alice / ${pw}, with a TOTP authenticator app
(enrolled at the first sign-in); passkeys at https://localhost:${b.settings.port}/owa/auth/portcullis/passkeys.

Admin endpoint ${b.adminUrl ?? '(none)'}: every request needs the token in ${b.token ?? '(none)'}
(Authorization: Bearer <token>); the portcullis commands above read it through -c ${b.config}.
${b.adminUrl ? `
Console ${b.adminUrl}/console/ in a browser: sign in as operator / operator-demo-pw (revoke, unlock, reload)
or viewer / viewer-demo-pw (read only); accounts in admin.console of ${b.config}.
` : ''}
Ctrl-C stops the demo.
`;
}

export function registerDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .description('start the lab Exchange, the gateway and a DNS responder for lab.example with the demo directory');
  for (const p of DEMO_PORTS) cmd.option(`${p.option} <port>`, `${p.what} (or ${p.env})`);
  cmd
    .option('--state <dir>', `folder for the demo CA, certificates, admin token and log (or ${STATE_ENV}; default .demo)`)
    .action(async (o: Partial<Record<'port' | 'labPort' | 'adminPort' | 'dnsPort' | 'state', string>>) => {
      let s: DemoSettings;
      try {
        s = demoSettings(o);
      } catch (e) {
        return fail([`portcullis demo: ${(e as Error).message}`]);
      }
      const pki = await ensureDemoPki(s.state);
      ensureDemoSecondFactorKey(s.state);
      const d = loadDirectoryFile(DEMO_DIRECTORY);
      if (!d.ok) return fail(d.problems.map(formatProblem));
      const config = demoConfigFile(s, readFileSync(DEMO_CONFIG, 'utf8'));
      const logFile = path.join(s.state, 'demo.log');
      // The lab's OWA and ECP use forms-based sign-in, as Exchange does by default: the gateway's
      // browser sign-in signs users in to it.
      const lab = await startLab(labOptions(d.directory, `https://127.0.0.1:${s.port}`, { forms: ['owa', 'ecp'] }), {
        host: '127.0.0.1',
        port: s.labPort,
        cert: readFileSync(pki.lab.certFile),
        key: readFileSync(pki.lab.keyFile),
      }).catch((e: unknown) => fail([`portcullis demo: the lab Exchange cannot listen on 127.0.0.1:${s.labPort}: ${(e as Error).message} (--lab-port or PORTCULLIS_DEMO_LAB_PORT picks another)`]));
      const rt = await serve(config, { logFile });
      // DNS for lab.example on loopback, so `portcullis doctor --resolver` sees real records.
      const dns = await startDnsResponder(labZone(s.port), s.dnsPort).catch(async (e: unknown) => {
        await rt.stop();
        await lab.stop();
        throw listenFailure(e) ?? e;
      });
      // Relative to where the demo was started when inside it (shorter to type), else absolute.
      const rel = (f: string) => {
        const r = path.relative(process.cwd(), f);
        return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
      };
      console.error(
        demoBanner({
          settings: s,
          labUrl: lab.url,
          ca: rel(pki.caFile),
          config: rel(config),
          log: rel(logFile),
          token: rt.admin ? rel(rt.admin.tokenFile) : undefined,
          adminUrl: rt.admin?.url,
          users: demoUsers(d.directory),
          newCa: pki.created.includes(pki.caFile),
        }),
      );
      stopOnSignals(async () => {
        await rt.stop();
        await lab.stop();
        await dns.stop();
      });
    });
}
