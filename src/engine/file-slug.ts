/** A name as a file-name fragment: lower case, runs of anything else as one '-', at most 60 characters. */
export function fileSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}
