/**
 * The organisation through the API: department tree CRUD and ordering, moves with the subtree (the
 * closure table and the in-memory headcounts), cycles refused, delete rules, distinct counts with
 * multi-post people, profiles and their self-edit policy. The OrgIndex visibility hook is unit-tested
 * at the end over the same real store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Department, OpOutput, Person } from '@enclave/protocol';
import { http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';
import { OrgIndex, everyone, type OrgChange, type VisibilityView } from '../src/domain/org/org-index.ts';

let srv: TestServer;
const admin = () => ({ token: srv.adminToken });

async function createDept(name: string, parentId: string | null = null, order?: number): Promise<Department> {
  const r = await http<Department>(srv, 'POST', '/api/v1/admin/departments', {
    ...admin(),
    body: { name, parentId, ...(order === undefined ? {} : { order }) },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function detail(id: string, token = srv.adminToken) {
  const r = await http<OpOutput<'org.department'>>(srv, 'GET', `/api/v1/org/departments/${id}`, { token });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const total = async (id: string) => (await detail(id)).department.total;

async function setPosts(
  user: TestUser,
  posts: { departmentId: string; title?: string; primary?: boolean; order?: number }[],
) {
  return http<Person & { error?: { code: string } }>(srv, 'POST', `/api/v1/admin/users/${user.id}/posts`, {
    ...admin(),
    body: { posts },
  });
}

async function move(id: string, parentId: string | null) {
  return http<Department & { error?: { code: string } }>(srv, 'PATCH', `/api/v1/admin/departments/${id}`, {
    ...admin(),
    body: { parentId },
  });
}

beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

describe('department tree', () => {
  it('creates, orders, renames and lists departments with their path', async () => {
    const hq = await createDept('总部');
    expect(hq).toMatchObject({ name: '总部', parentId: null, depth: 0, total: 0, online: 0, childCount: 0 });
    const rd = await createDept('研发中心', hq.id);
    const sales = await createDept('销售部', hq.id);
    const fe = await createDept('前端组', rd.id);
    expect(fe.depth).toBe(2);
    // Default order appends; an explicit order sorts first.
    const first = await createDept('办公室', hq.id, 0);
    expect(rd.order).toBeLessThan(sales.order);
    let d = await detail(hq.id);
    expect(d.children.map((c) => c.name)).toEqual(['办公室', '研发中心', '销售部']);
    expect(d.department.childCount).toBe(3);
    // Reorder: the office goes last.
    const re = await http<Department>(srv, 'PATCH', `/api/v1/admin/departments/${first.id}`, {
      ...admin(),
      body: { order: 100, name: '综合办公室' },
    });
    expect(re.body).toMatchObject({ name: '综合办公室', order: 100 });
    d = await detail(hq.id);
    expect(d.children.map((c) => c.name)).toEqual(['研发中心', '销售部', '综合办公室']);
    // Equal order: by name (pinyin).
    const a = await createDept('北京', sales.id, 5);
    const b = await createDept('安徽', sales.id, 5);
    expect((await detail(sales.id)).children.map((c) => c.id)).toEqual([b.id, a.id]);
    // Path from the top; top level listing.
    const fd = await detail(fe.id);
    expect(fd.path.map((p) => p.name)).toEqual(['总部', '研发中心']);
    const top = await http<{ items: Department[] }>(srv, 'GET', '/api/v1/org/departments', admin());
    expect(top.body.items.map((x) => x.id)).toContain(hq.id);
    const kids = await http<{ items: Department[] }>(srv, 'GET', `/api/v1/org/departments?parentId=${rd.id}`, admin());
    expect(kids.body.items.map((x) => x.name)).toEqual(['前端组']);
    // Unknown ids are stable errors; users cannot administer.
    const missing = await http<{ error: { code: string } }>(
      srv,
      'GET',
      '/api/v1/org/departments/0190c8a0-0000-7000-8000-000000000000',
      admin(),
    );
    expect(missing.body.error.code).toBe('department_not_found');
    const u = await makeUser(srv);
    const denied = await http<{ error: { code: string } }>(srv, 'POST', '/api/v1/admin/departments', {
      token: u.token,
      body: { name: 'x' },
    });
    expect(denied.status).toBe(403);
  });

  it('counts a multi-post person once per department, and moves carry totals along', async () => {
    const root = await createDept('集团');
    const east = await createDept('华东', root.id);
    const west = await createDept('华西', root.id);
    const sh = await createDept('上海', east.id);
    const hz = await createDept('杭州', east.id);
    const [p1, p2, p3] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    // p1 holds posts in two departments under the same parent: counted once in 华东 and in 集团.
    const r = await setPosts(p1, [
      { departmentId: sh.id, title: '经理' },
      { departmentId: hz.id, title: '顾问', primary: true },
    ]);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.title).toBe('顾问');
    expect(r.body.posts.map((p) => [p.departmentName, p.primary])).toEqual([
      ['杭州', true],
      ['上海', false],
    ]);
    await setPosts(p2, [{ departmentId: sh.id, title: '工程师' }]);
    await setPosts(p3, [{ departmentId: west.id, title: '销售' }]);
    expect(await total(sh.id)).toBe(2);
    expect(await total(hz.id)).toBe(1);
    expect(await total(east.id)).toBe(2);
    expect(await total(west.id)).toBe(1);
    expect(await total(root.id)).toBe(3);

    // Move 杭州 (with p1) under 华西: p1 is still in 华东 through 上海, now also in 华西.
    const moved = await move(hz.id, west.id);
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ parentId: west.id, depth: 2 });
    expect(await total(east.id)).toBe(2);
    expect(await total(west.id)).toBe(2);
    expect(await total(root.id)).toBe(3);
    // Move 上海 (p1, p2) under 杭州: 华东 empties, 华西 gets everyone, depth follows.
    await move(sh.id, hz.id);
    expect(await total(east.id)).toBe(0);
    expect(await total(west.id)).toBe(3);
    expect(await total(hz.id)).toBe(2);
    const shd = await detail(sh.id);
    expect(shd.department.depth).toBe(3);
    expect(shd.path.map((p) => p.name)).toEqual(['集团', '华西', '杭州']);
    // The subtree moves to the top: the root loses them.
    await move(hz.id, null);
    expect(await total(root.id)).toBe(1);
    expect(await total(hz.id)).toBe(2);
    expect((await detail(sh.id)).path.map((p) => p.name)).toEqual(['杭州']);

    // A restart rebuilds from the closure table and posts: the same totals.
    const fresh = new OrgIndex(srv.app.deps.store);
    await fresh.load();
    for (const d of [root, east, west, sh, hz]) {
      const id = fresh.departmentIdOf(d.id)!;
      expect(fresh.total(id)).toBe(srv.app.deps.org.total(id));
    }
    // Closure rows agree with the tree: 上海's ancestors are exactly 杭州 and itself.
    const shId = fresh.departmentIdOf(sh.id)!;
    const rows = await srv.app.deps.store.db
      .selectFrom('dept_closure')
      .select(['ancestor_id', 'depth'])
      .where('descendant_id', '=', shId)
      .orderBy('depth')
      .execute();
    expect(rows.map((x) => [Number(x.ancestor_id), Number(x.depth)])).toEqual([
      [shId, 0],
      [fresh.departmentIdOf(hz.id)!, 1],
    ]);
  });

  it('refuses a move under its own subtree', async () => {
    const a = await createDept('A部');
    const b = await createDept('B部', a.id);
    const c = await createDept('C部', b.id);
    for (const target of [a.id, b.id, c.id]) {
      const r = await move(a.id, target);
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('department_cycle');
    }
    expect((await detail(c.id)).path.map((p) => p.name)).toEqual(['A部', 'B部']);
  });

  it('refuses to delete a department with children or people, unless its people move', async () => {
    const parent = await createDept('待撤销');
    const child = await createDept('子部门', parent.id);
    const keep = await createDept('接收部门');
    const del = (id: string, moveTo?: string) =>
      http<{ ok?: true; error?: { code: string } }>(
        srv,
        'DELETE',
        `/api/v1/admin/departments/${id}${moveTo ? `?moveMembersTo=${moveTo}` : ''}`,
        admin(),
      );
    expect((await del(parent.id)).body.error?.code).toBe('department_not_empty');
    const [u1, u2] = [await makeUser(srv), await makeUser(srv)];
    await setPosts(u1, [{ departmentId: child.id, title: '组长', primary: true }]);
    await setPosts(u2, [
      { departmentId: keep.id, title: '原岗' },
      { departmentId: child.id, title: '兼岗', primary: true },
    ]);
    expect((await del(child.id)).body.error?.code).toBe('department_not_empty');
    const r = await del(child.id, keep.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(await total(keep.id)).toBe(2);
    expect(await total(parent.id)).toBe(0);
    // u2 keeps one post in 接收部门, now primary.
    const p2 = await http<Person>(srv, 'GET', `/api/v1/people/${u2.id}`, { token: u1.token });
    expect(p2.body.posts).toEqual([expect.objectContaining({ departmentName: '接收部门', primary: true })]);
    const gone = await http<{ error: { code: string } }>(srv, 'GET', `/api/v1/org/departments/${child.id}`, admin());
    expect(gone.body.error.code).toBe('department_not_found');
    expect((await del(parent.id)).status).toBe(200);
  });

  it('lists people by post order, then by the pinyin of their names', async () => {
    const d = await createDept('人员排序');
    const names = ['王五', '张三', '李四', '赵六'];
    const users = [];
    for (const n of names) {
      const u = await makeUser(srv);
      await http(srv, 'PATCH', `/api/v1/admin/users/${u.id}/profile`, { ...admin(), body: { displayName: n } });
      users.push(u);
    }
    await setPosts(users[3]!, [{ departmentId: d.id, order: 1 }]);
    for (const u of users.slice(0, 3)) await setPosts(u, [{ departmentId: d.id, order: 5 }]);
    const people = (await detail(d.id)).people.map((p) => p.displayName);
    expect(people).toEqual(['赵六', '李四', '王五', '张三']);
    // Two primaries are refused; no post left makes no one primary.
    const bad = await setPosts(users[0]!, [
      { departmentId: d.id, primary: true },
      { departmentId: (await createDept('其它')).id, primary: true },
    ]);
    expect(bad.body.error?.code).toBe('validation_failed');
  });
});

describe('profiles', () => {
  it('admins edit every field; users only the allowed ones; employee numbers are unique', async () => {
    const u = await makeUser(srv);
    const other = await makeUser(srv);
    const r = await http<Person>(srv, 'PATCH', `/api/v1/admin/users/${u.id}/profile`, {
      ...admin(),
      body: { displayName: '刘备', phone: '138 0013 8000', email: 'liubei@example.cn', employeeNo: 'E1001' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ displayName: '刘备', employeeNo: 'E1001', email: 'liubei@example.cn' });
    const dup = await http<{ error: { code: string } }>(srv, 'PATCH', `/api/v1/admin/users/${other.id}/profile`, {
      ...admin(),
      body: { employeeNo: 'E1001' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('employee_no_taken');
    const me = await http<Person>(srv, 'PATCH', '/api/v1/me/profile', {
      token: u.token,
      body: { phone: '13900000000', email: '' },
    });
    expect(me.body).toMatchObject({ phone: '13900000000', email: null });
    const bad = await http<{ error: { code: string } }>(srv, 'PATCH', '/api/v1/me/profile', {
      token: u.token,
      body: { email: 'not-an-email' },
    });
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('locks fields the policy does not let users edit', async () => {
    const locked = await startServer({ config: { profileSelfEdit: ['avatarId'] } });
    try {
      const u = await makeUser(locked);
      const r = await http<{ error: { code: string } }>(locked, 'PATCH', '/api/v1/me/profile', {
        token: u.token,
        body: { displayName: '改名' },
      });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('profile_field_locked');
      const ok = await http<Person>(locked, 'PATCH', '/api/v1/me/profile', {
        token: u.token,
        body: { avatarId: 'a1' },
      });
      expect(ok.body.avatarId).toBe('a1');
    } finally {
      await locked.close();
    }
  });
});

describe('OrgIndex', () => {
  it('computes totals per visibility view and reports changes', async () => {
    const hidden = new Set<number>();
    const staffView: VisibilityView = { id: 'staff', canSee: (u) => !hidden.has(u) };
    const org = srv.app.deps.org;
    const top = await createDept('可见性');
    const leaders = await createDept('领导', top.id);
    const staff = await createDept('员工', top.id);
    const boss = await makeUser(srv);
    const worker = await makeUser(srv);
    const changes: OrgChange[] = [];
    const off = org.onChange((c) => changes.push(c));
    await setPosts(boss, [{ departmentId: leaders.id }, { departmentId: staff.id }]);
    await setPosts(worker, [{ departmentId: staff.id }]);
    const bossId = await srv.app.deps.directory.idOf(boss.id);
    const [topId, leadersId, staffId] = [top.id, leaders.id, staff.id].map((u) => org.departmentIdOf(u)!);
    expect(org.departmentUidOf(topId!)).toBe(top.id);
    expect([...org.countedIn(bossId)].sort()).toEqual([topId, leadersId, staffId].sort());
    expect(changes[0]).toEqual({ users: [bossId], departments: expect.arrayContaining([topId, leadersId, staffId]) });
    off();
    hidden.add(bossId);
    // An unregistered view is counted on demand; a registered one incrementally.
    expect(org.total(topId!, staffView)).toBe(1);
    expect(org.total(leadersId!, staffView)).toBe(0);
    expect(org.total(topId!, everyone)).toBe(2);
    org.registerView(staffView);
    expect(org.total(staffId!, staffView)).toBe(1);
    await setPosts(boss, [{ departmentId: leaders.id }]);
    expect(org.total(staffId!, staffView)).toBe(1);
    expect(org.total(staffId!)).toBe(1);
    expect(org.total(topId!, staffView)).toBe(1);
    org.unregisterView('staff');
    expect(changes.length).toBe(2);
  });
});
