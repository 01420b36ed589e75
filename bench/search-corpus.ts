/**
 * Realistic mixed Chinese/English chat text for the search benchmark: workplace vocabulary drawn with a
 * Zipf distribution, Chinese words run together as people type them, English words, numbers, times,
 * the odd link — and a few rare phrases planted at known rates so "rare" queries have answers.
 */
const ZH =
  `好的 收到 谢谢 辛苦了 明天 今天 下午 上午 会议 开会 项目 进度 确认 讨论 方案 需求 测试 上线 版本 问题 修复 文档 培训
预算 财务 销售 市场 领导 通知 安排 时间 地点 资料 发送 已经 完成 开始 准备 检查 更新 系统 网络 安全 权限 账号 密码 登录 出差 请假
考勤 周报 日报 会议室 预约 审批 采购 供应商 发票 付款 质量 生产 设备 维护 故障 排查 日志 监控 告警 备份 恢复 迁移 升级 接口 对接 联调
性能 优化 压测 私有化 部署 国产化 服务器 数据库 客户 合同 报销 大家 我们 你们 请 一下 看看 这个 那个 没问题 可以 不行 马上 稍等 已处理
麻烦 帮忙 同步 一起 负责 跟进 反馈 汇总 整理 提交 评审 合并 分支 环境 配置 参数 脚本 任务 计划 目标 季度 年度 指标 数据 报表 分析
用户 体验 界面 设计 产品 运营 活动 推广 渠道 合作 伙伴 政务 医院 银行 工厂 学校 信创 鲲鹏 飞腾 麒麟 统信 云 存储 集群 节点 容器
镜像 证书 域名 防火墙 内网 外网 专线 机房 机柜 电源 空调 巡检 值班 交接 紧急 重要 注意 提醒 截止 延期 取消 改期 会后 会前 纪要`
    .split(/\s+/)
    .filter(Boolean);
const EN =
  `ok thanks please review deploy release server database meeting report budget customer contract invoice schedule
update fix bug test build merge branch docker kubernetes api sdk token login deadline asap done sure check log alert
backup restore migrate upgrade config cluster node latency throughput monitor dashboard ticket issue patch hotfix`
    .split(/\s+/)
    .filter(Boolean);
const PUNCT = ['，', '。', '！', '？', '、', ' ', '：'];

/** Planted phrases and the fraction of messages that carry each one. */
export const RARE = { 量子加密方案: 0.0001, 琥珀: 0.0002, 'zebra-crossing': 0.0001 } as const;

function zipfTable(n: number, s = 1.05): Float64Array {
  const c = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) c[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) c[i]! /= sum;
  return c;
}

function pick(cdf: Float64Array, r: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A small seeded PRNG (mulberry32), so every run seeds the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function corpus(seed = 42): () => string {
  const r = rng(seed);
  const zh = zipfTable(ZH.length);
  const en = zipfTable(EN.length);
  return () => {
    const words = 3 + Math.floor(r() * 14);
    let out = '';
    for (let i = 0; i < words; i++) {
      const x = r();
      if (x < 0.72) out += ZH[pick(zh, r())];
      else if (x < 0.9) out += ` ${EN[pick(en, r())]} `;
      else if (x < 0.95) out += PUNCT[Math.floor(r() * PUNCT.length)];
      else if (x < 0.98) out += ` ${Math.floor(r() * 24)}:${String(Math.floor(r() * 60)).padStart(2, '0')} `;
      else out += String(Math.floor(r() * 10_000));
    }
    if (r() < 0.03) out += ` https://intranet.example.cn/docs/${Math.floor(r() * 1e6)}`;
    for (const [phrase, rate] of Object.entries(RARE)) if (r() < rate) out += `，${phrase}`;
    return out.trim();
  };
}

/** One benchmark query: what it stands for, its text, and its order when not newest first. */
export interface BenchQuery {
  label: string;
  q: string;
  order?: 'relevance';
}

/**
 * The queries both search benchmarks ask (`npm run bench -- search`, `npm run bench:search`):
 * common, rare and absent terms of 1–6 characters, English, a phrase, two terms, relevance order,
 * and a common word filtered by a sender (`fromUsername`).
 */
export function benchQueries(fromUsername: string): BenchQuery[] {
  return [
    { label: 'common 3 chars', q: '服务器' },
    { label: 'phrase 5 chars', q: '私有化部署' },
    { label: 'common English', q: 'deploy' },
    { label: 'mixed two terms', q: '部署 server' },
    { label: 'rare 6 chars', q: Object.keys(RARE)[0]! },
    { label: 'rare English', q: 'zebra-crossing' },
    { label: 'no match 5 chars', q: '不存在的词' },
    { label: 'common 2 chars', q: '会议' },
    { label: 'rare 2 chars', q: '琥珀' },
    { label: 'no match 2 chars', q: '鳄梨' },
    { label: 'common 1 char', q: '云' },
    { label: 'common 3 chars, relevance', q: '服务器', order: 'relevance' },
    { label: 'common 2 chars + from:', q: `会议 from:${fromUsername}` },
  ];
}
