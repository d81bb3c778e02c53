/** A one-line progress indicator on stderr, so stdout keeps only the results. */
export function progress(label: string): { update(done: number, total: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    update(done, total) {
      const pct = Math.floor((done / total) * 100);
      if (pct === last) return;
      last = pct;
      if (tty) process.stderr.write(`\r${label} ${pct}%   `);
      else if (pct % 25 === 0) process.stderr.write(`${label} ${pct}%\n`);
    },
    done() {
      if (tty) process.stderr.write(`\r${label} done   \n`);
      else process.stderr.write(`${label} done\n`);
    },
  };
}
