/**
 * What presence needs of the organisation: exactly the part of `OrgIndex` (domain/org/org-index.ts)
 * it reads, so the counts here are tested against the real index and nothing else. Ids are internal
 * department ids; `countedIn(user)` is every department whose headcount includes them (each post's
 * department and its ancestors, once).
 */
export interface OrgSource {
  departmentIdOf(uid: string): number | null | undefined;
  departmentUidOf(id: number): string | null | undefined;
  countedIn(userId: number): ReadonlySet<number>;
  total(departmentId: number): number;
  onChange(listener: (change: { users: Iterable<number>; departments: Iterable<number> }) => void): unknown;
}
