import path from 'node:path';
import { imageManifest, MANIFEST_PATH } from '../contract/image-manifest.js';
import { kamailioUnitCommands } from '../contract/kamailio-args.js';
import type { ImageDefinition } from '../definition/schema.js';
import { renderTemplate, type TemplateSet } from './templates.js';
import { kamailioView } from './view.js';
import { dispatcherRows, renderDispatcherList } from './dispatcher.js';
import { commentText, envValue, sqlIdentifier, sqlLiteral, systemdValue } from '../contract/escape.js';
import { BOOT_INCLUDE_PATH, renderBootInclude } from '../contract/boot-include.js';
import { BOOT_RESULT_PATH, renderBootResult } from '../contract/boot-result.js';
import {
  RTPPROXY_BOOT_ENV_PATH,
  RTPPROXY_PIDFILE,
  renderRtpproxyBootEnv,
  rtpproxyFdLimit,
  rtpproxyMaxCalls,
  rtpproxyOptsLine,
} from '../contract/rtpproxy-args.js';

/** What the rtpproxy templates print: every flag comes from src/contract/rtpproxy-args.ts. */
function rtpproxyTemplateData(image: ImageDefinition) {
  const s = image.media.rtpproxy;
  return {
    optsLine: rtpproxyOptsLine(s),
    fdLimit: rtpproxyFdLimit(s),
    maxCalls: rtpproxyMaxCalls(s),
    pidFile: RTPPROXY_PIDFILE,
  };
}

// Pure: definition (+ loaded templates and agent bundle) in, the list of files to write out.

interface PlannedFile {
  path: string; // relative to the tree root, '/'-separated
  content: string;
  mode: number;
}

export interface RenderPlan {
  image: ImageDefinition;
  files: PlannedFile[];
  /** Kamailio modules the image loads, in load order. The bake builds exactly these. */
  modules: string[];
  /** Directories that must exist (relative), e.g. run/kamailio for --local. */
  dirs: string[];
}

export interface RenderInputs {
  templates: TemplateSet;
  agentBundle: string;
}

export interface LocalBoot {
  privateIp: string;
  publicIp: string;
  /** Absolute path the tree will live at, so the include's paths resolve there. */
  root: string;
  dbUrl?: string;
}

export const KAMAILIO_CFG_PATH = 'etc/kamailio/kamailio.cfg';
const AGENT_PATH = 'usr/local/lib/sipbake/agent.mjs';

/** The manifest the on-instance agent and the bake read. */
export function planRender(image: ImageDefinition, inputs: RenderInputs): RenderPlan {
  const view = kamailioView(image);
  // Every template gets the escaper of its own language beside the view: q() (Kamailio string) from
  // the view, it.unit() for systemd settings, it.env() for EnvironmentFile values.
  const t = (name: string, data: object = { ...view, unit: systemdValue, env: envValue }): string => renderTemplate(inputs.templates, name, data);
  const files: PlannedFile[] = [
    { path: KAMAILIO_CFG_PATH, content: t('kamailio/kamailio.cfg.eta'), mode: 0o644 },
    {
      path: 'etc/systemd/system/kamailio.service',
      content: t('systemd/kamailio.service.eta', { ...view, unit: systemdValue, env: envValue, kamailio: kamailioUnitCommands(image.memory) }),
      mode: 0o644,
    },
    { path: 'etc/systemd/system/sipbake-boot.service', content: t('systemd/sipbake-boot.service.eta'), mode: 0o644 },
    { path: 'etc/systemd/system/sipbake-drain.service', content: t('systemd/sipbake-drain.service.eta'), mode: 0o644 },
    { path: MANIFEST_PATH, content: `${JSON.stringify(imageManifest(image, view.modules), null, 2)}\n`, mode: 0o644 },
    { path: AGENT_PATH, content: inputs.agentBundle, mode: 0o755 },
    { path: 'usr/local/bin/sipbake-status', content: t('bin/sipbake-status.eta'), mode: 0o755 },
  ];
  if (view.useRtpproxy) {
    files.push(
      {
        path: 'etc/systemd/system/rtpproxy.service',
        content: t('systemd/rtpproxy.service.eta', { ...view, rtpproxy: rtpproxyTemplateData(image) }),
        mode: 0o644,
      },
      {
        path: 'etc/sipbake/rtpproxy.env',
        content: t('rtpproxy/rtpproxy.env.eta', { ...view, rtpproxy: rtpproxyTemplateData(image) }),
        mode: 0o644,
      },
    );
  }
  const ds = image.dispatcher;
  if (ds?.backend.type === 'file') {
    files.push({ path: 'etc/kamailio/dispatcher.list', content: renderDispatcherList(image), mode: 0o644 });
  } else if (ds?.backend.type === 'postgres') {
    // Every value reaches SQL through the escapers: literals, identifiers, and one-line comments.
    files.push({
      path: 'usr/share/sipbake/dispatcher.sql',
      content: t('sql/dispatcher.sql.eta', {
        image,
        rows: dispatcherRows(image),
        sql: sqlLiteral,
        ident: sqlIdentifier,
        comment: commentText,
        grantUser: ds.backend.user,
      }),
      mode: 0o644,
    });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { image, files, modules: view.modules, dirs: [] };
}

/** On loopback every instance is a peer (the topology rehearsal runs several on 127.x). */
const LOCAL_PEER_NET = '127.0.0.0/8';

/** Adds what the boot agent would write on an instance, for running the tree on loopback. */
export function withLocalBoot(plan: RenderPlan, local: LocalBoot): RenderPlan {
  const image = plan.image;
  const extra: PlannedFile[] = [
    {
      path: BOOT_INCLUDE_PATH,
      content: renderBootInclude({
        privateIp: local.privateIp,
        publicIp: local.publicIp,
        root: local.root,
        peerNet: LOCAL_PEER_NET,
        ...(local.dbUrl !== undefined ? { dbUrl: local.dbUrl } : {}),
        ...(image.tls.enabled ? { tls: { certificate: image.tls.certificate, privateKey: image.tls.privateKey } } : {}),
      }),
      mode: 0o640,
    },
  ];
  if (image.media.rtpproxy.enabled) {
    extra.push({ path: RTPPROXY_BOOT_ENV_PATH, content: renderRtpproxyBootEnv(local), mode: 0o644 });
  }
  // The boot result the drain agent and sipbake-status read; `at` is fixed so a render stays reproducible.
  extra.push({
    path: BOOT_RESULT_PATH,
    content: renderBootResult({
      ok: true,
      at: new Date(0).toISOString(),
      durationMs: 0,
      privateIp: local.privateIp,
      publicIp: local.publicIp,
      advertise: image.advertise.source,
      peerNet: LOCAL_PEER_NET,
      files: extra.map((f) => path.posix.join(local.root, f.path)),
    }),
    mode: 0o644,
  });
  const files = [...plan.files, ...extra].sort((a, b) => a.path.localeCompare(b.path));
  return { ...plan, files, dirs: [...plan.dirs, 'run/kamailio'] };
}
