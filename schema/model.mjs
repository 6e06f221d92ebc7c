// The config specs, written once from the published documentation (Ignition `docs/configuration-v3_*.md`, butane
// `docs/config-{fcos,flatcar,r4e}-v1_*.md`) and expanded by scripts/generate.mjs into one JSON Schema per spec
// version under schema/ignition/ and schema/butane/.
//
// Field names are Butane's (snake_case); Ignition's names are derived (`size_mib` → `sizeMiB`, `type_guid` →
// `typeGuid`). `since` is the spec generation a field first appears in: generation N is Ignition 3.(N-1) and
// Butane's base schema v0_N, which fcos 1.0 … 1.6 use as 1, 2, 3, 3, 4, 5, 6. `butane: true` marks Butane sugar
// that Ignition does not have; `ignition: true` the reverse.

const str = { type: 'string' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const strings = { list: str };

const verification = { title: 'Verification', fields: { hash: str } };
const httpHeader = { title: 'HTTPHeader', fields: { name: str, value: str } };

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

const nodeUser = { title: 'NodeUser', fields: { id: int, name: str } };
const nodeGroup = { title: 'NodeGroup', fields: { id: int, name: str } };
const nodeFields = { group: nodeGroup, overwrite: bool, path: str, user: nodeUser };

const partition = {
  title: 'Partition',
  fields: {
    guid: str,
    label: str,
    number: int,
    resize: { ...bool, since: 3 },
    should_exist: bool,
    size_mib: int,
    start_mib: int,
    type_guid: str,
    wipe_partition_entry: bool,
  },
};

const tang = { title: 'Tang', fields: { thumbprint: str, url: str, advertisement: { ...str, since: 4 } } };
const clevis = {
  title: 'Clevis',
  fields: {
    custom: { title: 'ClevisCustom', fields: { config: str, needs_network: bool, pin: str } },
    tang: { list: tang },
    threshold: int,
    tpm2: bool,
  },
};

export const base = {
  title: 'Config',
  fields: {
    ignition: {
      title: 'Ignition',
      fields: {
        version: { ...str, ignition: true },
        config: { title: 'IgnitionConfig', fields: { merge: { list: resource }, replace: resource } },
        proxy: { title: 'Proxy', since: 2, fields: { http_proxy: str, https_proxy: str, no_proxy: strings } },
        security: { title: 'Security', fields: { tls: { title: 'TLS', fields: { certificate_authorities: { list: resource } } } } },
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
            fields: { gid: int, name: str, password_hash: str, should_exist: { ...bool, since: 3 }, system: bool },
          },
        },
        users: {
          list: {
            title: 'PasswdUser',
            fields: {
              gecos: str,
              groups: strings,
              home_dir: str,
              name: str,
              no_create_home: bool,
              no_log_init: bool,
              no_user_group: bool,
              password_hash: str,
              primary_group: str,
              should_exist: { ...bool, since: 3 },
              ssh_authorized_keys: strings,
              ssh_authorized_keys_local: { ...strings, butane: true, since: 4 },
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
        disks: { list: { title: 'Disk', fields: { device: str, partitions: { list: partition }, wipe_table: bool } } },
        files: { list: { title: 'File', fields: { ...nodeFields, append: { list: resource }, contents: resource, mode: int } } },
        filesystems: {
          list: {
            title: 'Filesystem',
            fields: {
              device: str,
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
        links: { list: { title: 'Link', fields: { ...nodeFields, hard: bool, target: str } } },
        luks: {
          since: 3,
          list: {
            title: 'Luks',
            fields: {
              cex: { title: 'Cex', since: 6, ignition: true, fields: { enabled: bool } },
              clevis,
              device: str,
              discard: { ...bool, since: 5 },
              key_file: resource,
              label: str,
              name: str,
              open_options: { ...strings, since: 5 },
              options: strings,
              uuid: str,
              wipe_volume: bool,
            },
          },
        },
        raid: {
          list: { title: 'Raid', fields: { devices: strings, level: str, name: str, options: strings, spares: int } },
        },
        trees: { butane: true, since: 2, list: { title: 'Tree', fields: { local: str, path: str } } },
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
              contents_local: { ...str, butane: true, since: 4 },
              dropins: {
                list: { title: 'Dropin', fields: { contents: str, contents_local: { ...str, butane: true, since: 4 }, name: str } },
              },
              enabled: bool,
              mask: bool,
              name: str,
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

/** Butane specs: variant, version, generation of the base schema, the Ignition version produced. */
export const butaneSpecs = [
  ['fcos', '1.0.0', 1, '3.0.0'],
  ['fcos', '1.1.0', 2, '3.1.0'],
  ['fcos', '1.2.0', 3, '3.2.0'],
  ['fcos', '1.3.0', 3, '3.2.0'],
  ['fcos', '1.4.0', 4, '3.3.0'],
  ['fcos', '1.5.0', 5, '3.4.0'],
  ['fcos', '1.6.0', 6, '3.5.0'],
  ['flatcar', '1.0.0', 4, '3.3.0'],
  ['flatcar', '1.1.0', 5, '3.4.0'],
  ['r4e', '1.0.0', 4, '3.3.0'],
  ['r4e', '1.1.0', 5, '3.4.0'],
];

export const ignitionVersions = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0'];
