import type { SipbakeCommand } from '../command.js';
import validate from './validate.js';
import render from './render.js';
import check from './check.js';
import packer from './packer.js';
import build from './build.js';
import pin from './pin.js';
import roll from './roll.js';
import rollback from './rollback.js';
import status from './status.js';
import history from './history.js';
import iam from './iam.js';
import tryCmd from './try.js';
import rehearse from './rehearse.js';

export const commands: SipbakeCommand<never>[] = [validate, render, check, tryCmd, rehearse, packer, build, pin, roll, rollback, status, history, iam] as unknown as SipbakeCommand<never>[];
