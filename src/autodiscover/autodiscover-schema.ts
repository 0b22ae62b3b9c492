import { z } from 'zod';

export const autodiscoverSchema = z
  .object({
    rewrite: z.boolean().default(true).describe('Rewrite Autodiscover answers per user and zone (POX, SOAP, JSON).'),
    maxBodyBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024).describe('Largest Autodiscover answer accepted; larger ones are refused (502), never truncated.'),
    namespaces: z
      .array(
        z
          .object({
            internal: z.string().min(1).describe('Internal host name Exchange hands out (e.g. exch01.corp.local).'),
            external: z.string().min(1).describe('Published name external clients are told instead (e.g. mail.contoso.com).'),
          })
          .strict(),
      )
      .default([])
      .describe('Internal -> published host names. External clients never learn an internal name.'),
    publishedNames: z
      .array(z.string().min(1))
      .default([])
      .describe('Further host names external clients may be told (the namespace externals are always included).'),
  })
  .strict();

export type AutodiscoverConfig = z.output<typeof autodiscoverSchema>;
