// ActiveSync queries in the base64 form (MS-ASHTTP 2.2.1.1.1.1), built from their fields for tests.

/** The base64 form's bytes: version, command, locale, DeviceId, policy key, DeviceType, parameters. */
export function easBase64(o: { version?: number; command?: number; id: Buffer | string; key?: Buffer; type: string; params?: Array<[number, Buffer | string]> }): string {
  const id = typeof o.id === 'string' ? Buffer.from(o.id, 'latin1') : o.id;
  const key = o.key ?? Buffer.alloc(0);
  const parts = [Buffer.from([o.version ?? 141, o.command ?? 0, 0x09, 0x04, id.length]), id, Buffer.from([key.length]), key, Buffer.from([o.type.length]), Buffer.from(o.type, 'latin1')];
  for (const [tag, v] of o.params ?? []) {
    const b = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
    parts.push(Buffer.from([tag, b.length]), b);
  }
  return Buffer.concat(parts).toString('base64');
}

