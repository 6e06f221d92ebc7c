// systemd's unit-name escaping of a path (`systemd-escape --path`), which butane uses to name generated mount and
// swap units: `/var/lib/pmm-data` → `var-lib-pmm\x2ddata`.

export function escapeUnitPath(path: string): string {
  // Drop duplicate, leading and trailing slashes; the root itself is "-".
  const trimmed = path.split('/').filter((p) => p !== '').join('/');
  if (trimmed === '') return '-';
  const bytes = Buffer.from(trimmed, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const ch = String.fromCharCode(b);
    if (ch === '/') out += '-';
    else if (i === 0 && ch === '.') out += `\\x${b.toString(16)}`;
    else if (b < 0x80 && /[:_.a-zA-Z0-9]/.test(ch)) out += ch;
    else out += `\\x${b.toString(16)}`;
  }
  return out;
}
