// `portcullis admin hash-password`: the argon2id hash for an admin.console account, from a password
// read on standard input (never an argument: it would show in ps and the shell history).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { hashPassword } from '../admin/console/password-hash.js';
import { CliError } from './cli-error.js';

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('admin console helpers');
  admin
    .command('hash-password')
    .description('read a password from standard input and print its argon2id hash for admin.console.accounts[].passwordHash')
    .action(async () => {
      const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (password === '') throw new CliError('hash-password: standard input was empty (echo the password into the command, or type it and press Ctrl-D)');
      if (password.length < 12) process.stderr.write('warning: a console password shorter than 12 characters is easy to guess\n');
      console.log(await hashPassword(password));
    });
}
