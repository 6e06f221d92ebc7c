// --json runs print their progress as NDJSON on stderr (docs/json-output.md). Tests that check a run printed
// nothing else (no warning, no stack trace) look at stderr without those lines.
export function withoutProgress(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return true;
      try {
        return (JSON.parse(line) as { type?: unknown }).type !== 'progress';
      } catch {
        return true;
      }
    })
    .join('\n');
}
