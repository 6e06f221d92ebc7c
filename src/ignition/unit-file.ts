// systemd unit syntax as Ignition checks it: go-systemd's unit deserializer decides which unit and drop-in contents
// Ignition rejects ("invalid unit content: …"), and what it returns decides the [Install] warnings. Text before the
// first section header is skipped, so `not a unit file` is accepted, as it is by Ignition.

export interface UnitOption {
  section: string;
  name: string;
}

const LINE_MAX = 2048;

/** The options of a unit file, or the error go-systemd reports for it. */
export function parseUnit(contents: string): { options: UnitOption[] } | { error: string } {
  const options: UnitOption[] = [];
  let i = 0;
  let section: string | undefined;
  const n = contents.length;
  const toEol = (): void => {
    const nl = contents.indexOf('\n', i);
    i = nl < 0 ? n : nl + 1;
  };
  const lineTooLong = (): boolean => {
    if (n - i < LINE_MAX) return false;
    return !/[\r\n]/.test(contents.slice(i, i + LINE_MAX));
  };
  // A comment line continues while it ends in a backslash.
  const skipComment = (): void => {
    for (;;) {
      const nl = contents.indexOf('\n', i);
      const line = (nl < 0 ? contents.slice(i) : contents.slice(i, nl)).replace(/\r$/, '').replace(/ $/, '');
      i = nl < 0 ? n : nl + 1;
      if (!line.endsWith('\\') || i >= n) return;
    }
  };
  while (i < n) {
    if (lineTooLong()) return { error: `line too long (max ${LINE_MAX} bytes)` };
    const c = contents[i] as string;
    i++;
    if (c === '[') {
      const end = contents.indexOf(']', i);
      if (end < 0) return { error: 'unable to find end of section' };
      const name = contents.slice(i, end);
      i = end + 1;
      const nl = contents.indexOf('\n', i);
      const garbage = (nl < 0 ? contents.slice(i) : contents.slice(i, nl)).replace(/\r$/, '').trim();
      if (garbage !== '') return { error: `found garbage after section name ${section ?? ''}: ${JSON.stringify(garbage)}` };
      toEol();
      section = name;
      continue;
    }
    if (c === '#' || c === ';') {
      skipComment();
      continue;
    }
    if (section === undefined || /\s/.test(c)) continue;
    // An option: the name runs to '=', and a newline before it is an error; the value may continue lines.
    i--;
    const eq = contents.slice(i).search(/[=\r\n]/);
    if (eq < 0) return { error: 'EOF' };
    if (contents[i + eq] !== '=') return { error: 'unexpected newline encountered while parsing option name' };
    const name = contents.slice(i, i + eq).trim();
    i += eq + 1;
    for (;;) {
      const nl = contents.indexOf('\n', i);
      const line = (nl < 0 ? contents.slice(i) : contents.slice(i, nl)).replace(/\r$/, '');
      i = nl < 0 ? n : nl + 1;
      if (line.trim() === '' || !line.endsWith('\\') || nl < 0) break;
    }
    options.push({ section, name });
  }
  return { options };
}
