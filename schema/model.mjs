// The config specs, written once from the published documentation (Ignition `docs/configuration-v3_*.md`, butane
// `docs/config-{fcos,flatcar,r4e}-v1_*.md`) and expanded by scripts/generate.mjs into one JSON Schema per spec
// version under schema/ignition/ and schema/butane/.
//
// Field names are Butane's (snake_case); Ignition's names are derived (`size_mib` → `sizeMiB`, `type_guid` →
// `typeGuid`). `since` is the spec generation a field first appears in: generation N is Ignition 3.(N-1) and
// Butane's base schema v0_N, which fcos 1.0 … 1.8 use as 1, 2, 3, 3, 4, 5, 6, 7, 8. `butane: true` marks Butane
// sugar that Ignition does not have. `until` is the last generation a field exists in.
//
// `go` says how Ignition's Go struct encodes a field when it is absent or zero, which decides what butane prints:
// `always` (a plain string without omitempty: printed as "" when unset), `null` (a pointer without omitempty:
// printed as null), `omitZero` (a plain int/string with omitempty: 0 or "" is left out), `pointer` (a struct held by
// pointer: printed even when empty). Fields without it are pointers with omitempty: printed when set, even to a zero
// value. `goUntil` limits the encoding to generations up to that one; later ones use the default.

const str = { type: 'string' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const strings = { list: str };

const verification = { title: 'Verification', fields: { hash: str } };
const httpHeader = { title: 'HTTPHeader', fields: { name: { ...str, go: 'always' }, value: str } };

/** A fetched or embedded blob: file contents, appended data, key files, merged configs, CA certificates. */
const resource = {
  title: 'Resource',
  fields: {
    compression: str,
    http_headers: { list: httpHeader, since: 2 },
    source: str,
    inline: { ...str, butane: true },
    local: { ...str, butane: true, since: 2 },
    verification,
  },
};

/**
 * Merged/replacing configs and CA certificates: Ignition 3.0 (fcos 1.0) has no compression or inline data there,
 * only a source (a nullable pointer for configs, a plain string for CAs) and verification.
 */
const configResource = (source) => ({
  title: 'ConfigResource',
  fields: {
    compression: { ...str, since: 2 },
    http_headers: { list: httpHeader, since: 2 },
    source: { ...str, go: source, goUntil: 1 },
    inline: { ...str, butane: true, since: 2 },
    local: { ...str, butane: true, since: 2 },
    verification,
  },
});

const nodeUser = { title: 'NodeUser', fields: { id: int, name: str } };
const nodeGroup = { title: 'NodeGroup', fields: { id: int, name: str } };
const nodeFields = { group: nodeGroup, overwrite: bool, path: { ...str, go: 'always' }, user: nodeUser };

const partition = {
  title: 'Partition',
  fields: {
    guid: str,
    label: str,
    number: { ...int, go: 'omitZero' },
    resize: { ...bool, since: 3 },
    should_exist: bool,
    size_mib: int,
    start_mib: int,
    type_guid: str,
    wipe_partition_entry: bool,
  },
};

const tang = { title: 'Tang', fields: { thumbprint: str, url: { ...str, go: 'omitZero' }, advertisement: { ...str, since: 4 } } };
const clevis = {
  title: 'Clevis',
  fields: {
    // Ignition 3.2 holds the custom pin by pointer, with plain strings inside.
    custom: {
      title: 'ClevisCustom',
      go: 'pointer',
      goUntil: 3,
      fields: { config: { ...str, go: 'always', goUntil: 3 }, needs_network: bool, pin: { ...str, go: 'always', goUntil: 3 } },
    },
    tang: { list: tang },
    threshold: int,
    tpm2: bool,
  },
};

const dropin = {
  title: 'Dropin',
  fields: { contents: str, contents_local: { ...str, butane: true, since: 5 }, name: { ...str, go: 'always' } },
};

export const base = {
  title: 'Config',
  fields: {
    ignition: {
      title: 'Ignition',
      fields: {
        version: { ...str, ignition: true },
        config: { title: 'IgnitionConfig', fields: { merge: { list: configResource('null') }, replace: configResource('null') } },
        proxy: { title: 'Proxy', since: 2, fields: { http_proxy: str, https_proxy: str, no_proxy: strings } },
        security: { title: 'Security', fields: { tls: { title: 'TLS', fields: { certificate_authorities: { list: configResource('always') } } } } },
        timeouts: { title: 'Timeouts', fields: { http_response_headers: int, http_total: int } },
      },
    },
    kernel_arguments: {
      title: 'KernelArguments',
      since: 4,
      fields: { should_exist: strings, should_not_exist: strings },
    },
    passwd: {
      title: 'Passwd',
      fields: {
        groups: {
          list: {
            title: 'PasswdGroup',
            fields: { gid: int, name: { ...str, go: 'always' }, password_hash: str, should_exist: { ...bool, since: 3 }, system: bool },
          },
        },
        users: {
          list: {
            title: 'PasswdUser',
            fields: {
              gecos: str,
              groups: strings,
              home_dir: str,
              name: { ...str, go: 'always' },
              no_create_home: bool,
              no_log_init: bool,
              no_user_group: bool,
              password_hash: str,
              primary_group: str,
              should_exist: { ...bool, since: 3 },
              ssh_authorized_keys: strings,
              ssh_authorized_keys_local: { ...strings, butane: true, since: 5 },
              shell: str,
              system: bool,
              uid: int,
            },
          },
        },
      },
    },
    storage: {
      title: 'Storage',
      fields: {
        directories: { list: { title: 'Directory', fields: { ...nodeFields, mode: int } } },
        disks: { list: { title: 'Disk', fields: { device: { ...str, go: 'always' }, partitions: { list: partition }, wipe_table: bool } } },
        files: { list: { title: 'File', fields: { ...nodeFields, append: { list: resource }, contents: resource, mode: int } } },
        filesystems: {
          list: {
            title: 'Filesystem',
            fields: {
              device: { ...str, go: 'always' },
              format: str,
              label: str,
              mount_options: { ...strings, since: 2 },
              options: strings,
              path: str,
              uuid: str,
              wipe_filesystem: bool,
              with_mount_unit: { ...bool, butane: true, since: 2 },
            },
          },
        },
        links: { list: { title: 'Link', fields: { ...nodeFields, hard: bool, target: { ...str, go: 'always', goUntil: 3 } } } },
        luks: {
          since: 3,
          list: {
            title: 'Luks',
            fields: {
              cex: { title: 'Cex', since: 6, fields: { enabled: bool } },
              clevis: { ...clevis, go: 'pointer', goUntil: 3 },
              device: str,
              discard: { ...bool, since: 5 },
              key_file: resource,
              label: str,
              name: { ...str, go: 'always' },
              open_options: { ...strings, since: 5 },
              options: strings,
              uuid: str,
              wipe_volume: bool,
            },
          },
        },
        raid: {
          list: {
            title: 'Raid',
            fields: {
              devices: strings,
              level: { ...str, go: 'always', goUntil: 3 },
              name: { ...str, go: 'always' },
              options: strings,
              spares: int,
            },
          },
        },
        trees: {
          butane: true,
          since: 2,
          list: {
            title: 'Tree',
            fields: {
              local: str,
              path: str,
              // fcos 1.7 (base v0_7): ownership and modes for everything the tree creates.
              user: { ...nodeUser, since: 7 },
              group: { ...nodeGroup, since: 7 },
              file_mode: { ...int, since: 7 },
              dir_mode: { ...int, since: 7 },
            },
          },
        },
      },
    },
    systemd: {
      title: 'Systemd',
      fields: {
        units: {
          list: {
            title: 'Unit',
            fields: {
              contents: str,
              contents_local: { ...str, butane: true, since: 5 },
              dropins: { list: dropin },
              enabled: bool,
              mask: bool,
              name: { ...str, go: 'always' },
            },
          },
        },
        // Butane 0.26+ (base v0_8_exp): Podman Quadlet files, written under /etc/containers/systemd.
        quadlets: {
          butane: true,
          since: 8,
          list: {
            title: 'Quadlet',
            fields: {
              contents: str,
              contents_local: str,
              name: str,
              rootful: bool,
              dropins: { list: { title: 'QuadletDropin', fields: { contents: str, contents_local: str, name: str } } },
            },
          },
        },
      },
    },
  },
};

/** Top-level additions of the fcos variant, gated on the fcos version (x.y) that introduced them. */
export const fcosExtras = {
  boot_device: {
    title: 'BootDevice',
    fcos: '1.3',
    fields: {
      layout: str,
      luks: {
        title: 'BootDeviceLuks',
        fields: {
          cex: { title: 'BootDeviceLuksCex', fcos: '1.6', fields: { enabled: bool } },
          device: { ...str, fcos: '1.6' },
          discard: { ...bool, fcos: '1.5' },
          tang: { list: tang },
          threshold: int,
          tpm2: bool,
        },
      },
      mirror: { title: 'BootDeviceMirror', fields: { devices: strings } },
    },
  },
  grub: {
    title: 'Grub',
    fcos: '1.5',
    fields: { users: { list: { title: 'GrubUser', fields: { name: str, password_hash: str } } } },
  },
};

/**
 * Butane specs: variant, version, generation of the base schema, the Ignition version produced. The only place
 * this table is written; `npm run gen` copies it into src/generated/specs.ts for the code.
 */
export const butaneSpecs = [
  ['fcos', '1.0.0', 1, '3.0.0'],
  ['fcos', '1.1.0', 2, '3.1.0'],
  ['fcos', '1.2.0', 3, '3.2.0'],
  ['fcos', '1.3.0', 3, '3.2.0'],
  ['fcos', '1.4.0', 4, '3.3.0'],
  ['fcos', '1.5.0', 5, '3.4.0'],
  ['fcos', '1.6.0', 6, '3.5.0'],
  ['fcos', '1.7.0', 7, '3.6.0'],
  ['fcos', '1.8.0-experimental', 8, '3.7.0-experimental'],
  ['flatcar', '1.0.0', 4, '3.3.0'],
  ['flatcar', '1.1.0', 5, '3.4.0'],
  ['flatcar', '1.2.0-experimental', 8, '3.7.0-experimental'],
  ['r4e', '1.0.0', 4, '3.3.0'],
  ['r4e', '1.1.0', 5, '3.4.0'],
  ['r4e', '1.2.0-experimental', 8, '3.7.0-experimental'],
];

/** Ignition specs; the generation of 3.N is N + 1. */
export const ignitionVersions = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0', '3.6.0', '3.7.0-experimental'];

// Which Ignition release first reads each stable spec version, and when it was released: the table in Ignition's
// docs/specs.md ("Specification versions and Ignition releases") at tag v2.26.0, dates from the release tags
// (docs/release-notes.md). An experimental spec is read only by the releases that carry it: 3.7.0-experimental from
// 2.26.0 on, until a release stabilises 3.7.0. Used to check, before anything changes, that an OS image's Ignition
// can read the config cnvm gives it (src/image/ignition-support.ts).
export const ignitionReleases = {
  source: 'coreos/ignition v2.26.0: docs/specs.md, docs/release-notes.md',
  specs: [
    { spec: '3.0.0', ignition: '2.0.0', released: '2019-06-03' },
    { spec: '3.1.0', ignition: '2.3.0', released: '2020-05-05' },
    { spec: '3.2.0', ignition: '2.7.0', released: '2020-10-14' },
    { spec: '3.3.0', ignition: '2.11.0', released: '2021-06-25' },
    { spec: '3.4.0', ignition: '2.15.0', released: '2023-02-21' },
    { spec: '3.5.0', ignition: '2.20.0', released: '2024-10-22' },
    { spec: '3.6.0', ignition: '2.26.0', released: '2026-02-18' },
    { spec: '3.7.0-experimental', ignition: '2.26.0', released: '2026-02-18' },
  ],
};
