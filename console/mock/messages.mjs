// The message hub of the mock (docs/api.md “Messages”, crates/gongzhi/src/app/messages.rs): each user's
// in-app inbox, seeded on first use with a few messages fitting their roles (dispatches, urgings and whistles
// for unit members and the desk, 办结 for those who submitted cases), and the templates an office may reword
// (manage_system). Texts are rendered from the templates in the reader's language, like the server.
import { randomUUID } from 'node:crypto'
import { permissionsOf } from './roles.mjs'

// a copy of the server's TEMPLATES
const TEMPLATES = [
  {
    key: 'case.dispatched', about_zh: '诉求派给本单位（派单、改派、仲裁、退回后重派）', about_en: 'A case dispatched to your unit (dispatch, arbitration, re-dispatch)',
    vars: ['no', 'category', 'title', 'due', 'street'],
    title_zh: '新派单 {no}', body_zh: '{street}派来一件{category}诉求：{title}。请于 {due} 前响应。',
    title_en: 'New case {no}', body_en: '{street} dispatched a {category} case to your unit: {title}. Respond by {due}.',
  },
  {
    key: 'case.returned', about_zh: '承办单位退回诉求，等待街道重新派遣', about_en: "A unit returned a case to the street's desk",
    vars: ['no', 'unit', 'note', 'title'],
    title_zh: '诉求被退回 {no}', body_zh: '{unit}退回了诉求「{title}」，理由：{note}。请重新派遣。',
    title_en: 'Case {no} returned', body_en: '{unit} returned the case "{title}": {note}. Please dispatch it again.',
  },
  {
    key: 'case.supervised', about_zh: '街道对本单位承办的诉求督办', about_en: 'The street urges your unit on a case (督办)',
    vars: ['no', 'title', 'note', 'due'],
    title_zh: '督办 {no}', body_zh: '诉求「{title}」被督办：{note}。办理期限 {due}。',
    title_en: 'Urged: case {no}', body_en: 'The case "{title}" is urged: {note}. Due {due}.',
  },
  {
    key: 'case.whistle', about_zh: '街道吹哨，本单位须在时限内报到', about_en: 'The street blows the whistle: your unit reports in',
    vars: ['no', 'title', 'minutes'],
    title_zh: '吹哨报到 {no}', body_zh: '街道就「{title}」吹哨，请在 {minutes} 分钟内到场报到。',
    title_en: 'Whistle: case {no}', body_en: 'The street blew the whistle on "{title}": report in within {minutes} minutes.',
  },
  {
    key: 'case.closed', about_zh: '您提交的诉求已办结，请评价', about_en: 'A case you submitted is closed; rate it',
    vars: ['no', 'title'],
    title_zh: '诉求已办结 {no}', body_zh: '您反映的「{title}」已办结。欢迎对办理结果进行评价。',
    title_en: 'Case {no} closed', body_en: 'Your case "{title}" is closed. Please rate how it was handled.',
  },
  {
    key: 'notice.published', about_zh: '发给您或您家的通知公告', about_en: 'A notice to you or your household',
    vars: ['title', 'area'],
    title_zh: '通知：{title}', body_zh: '{area}发布了通知「{title}」，请打开查看；如需回执，请点击“确认收到”。',
    title_en: 'Notice: {title}', body_en: '{area} published the notice "{title}". Open it; if it asks, tap "Acknowledge".',
  },
  {
    key: 'notice.reminder', about_zh: '尚未阅读或确认的通知提醒', about_en: 'A reminder of a notice not yet read or acknowledged',
    vars: ['title', 'area'],
    title_zh: '提醒：请查看通知「{title}」', body_zh: '{area}的通知「{title}」您尚未查看或确认，请打开查看。',
    title_en: 'Reminder: notice "{title}"', body_en: 'You have not yet read or acknowledged the notice "{title}" from {area}.',
  },
  {
    key: 'claim.confirmed', about_zh: '社区核实了您认领的住户信息', about_en: 'The community confirmed your claim of your household record',
    vars: ['community'],
    title_zh: '住户信息已核实', body_zh: '{community}已核实您的住户信息，您的账号已关联住户。社区发给您家的通知会显示在“我的通知”中。',
    title_en: 'Household record confirmed', body_en: '{community} confirmed your household record; your account is now linked to it. Notices to your household appear under "My notices".',
  },
  // 回应关切 (mock/questions.mjs)
  {
    key: 'question.asked', about_zh: '居民提出了问题，请在期限内答复', about_en: 'A resident asked a question; answer it in time',
    vars: ['no', 'title', 'community', 'due'],
    title_zh: '居民提问 {no}', body_zh: '{community}居民提问「{title}」，请于 {due} 前答复。',
    title_en: 'Question {no}', body_en: 'A resident of {community} asked "{title}". Answer by {due}.',
  },
  {
    key: 'question.routed', about_zh: '居民问题转给您的单位答复', about_en: "A resident's question was passed to your unit",
    vars: ['no', 'title', 'community', 'due'],
    title_zh: '转来的居民提问 {no}', body_zh: '{community}居民的提问「{title}」已转给您的单位，请于 {due} 前答复。',
    title_en: 'Question {no} passed to you', body_en: 'The question "{title}" from {community} was passed to your unit. Answer by {due}.',
  },
  {
    key: 'question.overdue', about_zh: '居民提问已超过答复期限', about_en: "A resident's question is past its answer deadline",
    vars: ['no', 'title', 'community'],
    title_zh: '提问超期未答复 {no}', body_zh: '{community}居民的提问「{title}」已超过答复期限，请尽快答复。',
    title_en: 'Question {no} overdue', body_en: 'The question "{title}" from {community} is past its deadline. Please answer it.',
  },
  {
    key: 'question.answered', about_zh: '您的提问有了答复', about_en: 'Your question was answered',
    vars: ['title'],
    title_zh: '您的提问已答复', body_zh: '您提出的「{title}」已有答复，请打开查看。',
    title_en: 'Your question was answered', body_en: 'Your question "{title}" has an answer. Open it to read.',
  },
  {
    key: 'question.declined', about_zh: '您的提问未被受理及原因', about_en: 'Your question was declined, and why',
    vars: ['title', 'reason'],
    title_zh: '您的提问未受理', body_zh: '您提出的「{title}」未受理：{reason}',
    title_en: 'Your question was declined', body_en: 'Your question "{title}" was declined: {reason}',
  },
]
const own = new Map() // key → {title_zh, body_zh, title_en, body_en, version, updated_at, updated_by}
const inboxes = new Map() // user id → [{id, kind, vars, link, urgent, created_at, read_at}] newest first
const waiting = new Map() // user id → messages posted before their inbox was seeded

/** Another mock puts a message in a user's inbox (mock/notices.mjs: notice.published, notice.reminder; mock/questions.mjs: question.*). */
export function postMessage(userId, { kind, vars, link = null, urgent = false, at = new Date().toISOString() }) {
  const x = { id: randomUUID(), kind, vars, link, urgent, created_at: at, read_at: null }
  const box = inboxes.get(userId)
  if (box) box.unshift(x)
  else waiting.set(userId, [x, ...(waiting.get(userId) || [])])
}

/** `{name}` → the variable's value; an unknown name stays as written (the server's fill). */
function fill(text, vars) {
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, (all, n) => (vars[n] === undefined || vars[n] === null ? all : String(vars[n])))
}
const namesIn = (text) => [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1])
const localMinute = (ms) => {
  const d = new Date(ms + 8 * 3600000).toISOString()
  return `${d.slice(0, 10)} ${d.slice(11, 16)}`
}

const SAMPLE_CASES = [
  ['小区门口垃圾堆放三天无人清运', '市容环境'], ['5号楼电梯经常停运', '物业管理'], ['路灯不亮，夜里出行不安全', '市政设施'],
  ['楼道堆放杂物堵塞消防通道', '消防安全'], ['广场舞噪音扰民', '噪声污染'], ['井盖松动，车辆经过响声大', '市政设施'],
  ['共享单车乱停放堵塞人行道', '交通秩序'], ['暖气不热，室温不足16度', '供暖'], ['小区绿地被私自开垦种菜', '园林绿化'],
  ['临街商铺占道经营', '市容环境'], ['雨后地下车库积水', '市政设施'], ['流浪犬在小区出没', '社区治理'],
]
/** Seeds a user's inbox with messages fitting what they do (once). */
function seed(me, cases) {
  const has = (...r) => me.grants.some((g) => r.includes(g.role))
  const perms = new Set(permissionsOf(me))
  const list = []
  const now = Date.now()
  const realCases = cases(me) || []
  let k = 0
  const add = (kind, vars, link, urgent, ago, read) =>
    list.push({ id: randomUUID(), kind, vars, link, urgent, created_at: new Date(now - ago).toISOString(), read_at: read ? new Date(now - ago + 600000).toISOString() : null })
  const pick = () => {
    const c = realCases[k % Math.max(1, realCases.length)]
    const s = SAMPLE_CASES[k % SAMPLE_CASES.length]
    k++
    return c
      ? { no: c.no, title: c.title, category: c.category_name || s[1], link: `/cases/${c.id}` }
      : { no: `GZ2026${String(510 + (k % 20)).padStart(4, '0')}-${String(30 + k).padStart(4, '0')}`, title: s[0], category: s[1], link: null }
  }
  const H = 3600000
  const worker = has('department_handler') || perms.has('dispatch_cases') || has('system_admin')
  if (worker) {
    // the first ones unread; two urgent (督办, 吹哨)
    for (let i = 0; i < 22; i++) {
      const c = pick()
      const ago = (i < 3 ? 0.4 + i * 1.3 : 6 + i * 9.5) * H
      const read = i >= 5
      const kind = i === 1 ? 'case.supervised' : i === 2 ? 'case.whistle' : i % 5 === 4 ? 'case.returned' : i % 7 === 6 ? 'case.supervised' : 'case.dispatched'
      const vars = {
        no: c.no, title: c.title, category: c.category, street: '先锋街道', unit: '区城管委', minutes: 30,
        due: localMinute(now - ago + 24 * H), note: kind === 'case.returned' ? '不属于本单位职责，建议派物业公司' : '群众反映强烈，请加快办理',
      }
      add(kind, vars, c.link, kind === 'case.supervised' || kind === 'case.whistle', ago, read)
    }
  }
  if (has('resident', 'grid_worker', 'building_leader', 'volunteer') || !worker) {
    for (let i = 0; i < 3; i++) {
      const s = SAMPLE_CASES[(i * 5 + 2) % SAMPLE_CASES.length]
      add('case.closed', { no: `GZ20260${4 + (i % 2)}${String(12 + i * 7).padStart(2, '0')}-${String(120 + i * 31).padStart(4, '0')}`, title: s[0] }, '/my/cases', false, (2 + i * 30) * H, i > 0)
    }
  }
  list.sort((a, b) => b.created_at.localeCompare(a.created_at))
  return list
}

function render(m, en) {
  const t = TEMPLATES.find((x) => x.key === m.kind)
  if (!t) return { title: m.kind, body: '' }
  const w = own.get(t.key) || t
  return { title: fill(en ? w.title_en : w.title_zh, m.vars), body: fill(en ? w.body_en : w.body_zh, m.vars) }
}
const view = (t) => {
  const w = own.get(t.key)
  return {
    key: t.key, about_zh: t.about_zh, about_en: t.about_en, vars: t.vars,
    title_zh: (w || t).title_zh, body_zh: (w || t).body_zh, title_en: (w || t).title_en, body_en: (w || t).body_en,
    customised: !!w, version: w ? w.version : 0, updated_at: w ? w.updated_at : null, updated_by: w ? w.updated_by : null,
  }
}

/**
 * The routes of the message hub; answers true when it handled the request.
 * `cases(me)`: the cases the user may see (for the links), or null.
 */
export function messagesApi({ req, res, url, p, m, body, me, send, err, log, cases }) {
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const inbox = () => {
    if (!inboxes.has(me.id)) {
      const list = [...(waiting.get(me.id) || []), ...seed(me, cases)].sort((a, b) => b.created_at.localeCompare(a.created_at))
      waiting.delete(me.id)
      inboxes.set(me.id, list)
    }
    return inboxes.get(me.id)
  }
  const unread = () => ({ unread: inbox().filter((x) => !x.read_at).length })
  let mm
  if (p === '/me/messages' && m === 'GET') {
    const onlyUnread = url.searchParams.get('unread') === 'true'
    const page = Math.max(1, Number(url.searchParams.get('page') || 1))
    const size = Math.min(200, Math.max(1, Number(url.searchParams.get('page_size') || 20)))
    const all = inbox().filter((x) => !onlyUnread || !x.read_at)
    const items = all.slice((page - 1) * size, page * size).map((x) => ({
      id: x.id, kind: x.kind, ...render(x, en), link: x.link, urgent: x.urgent, created_at: x.created_at, read_at: x.read_at,
    }))
    send(res, 200, { items, total: all.length, page, page_size: size, more: false })
    return true
  }
  if (p === '/me/messages/unread' && m === 'GET') {
    send(res, 200, unread())
    return true
  }
  if (p === '/me/messages/read-all' && m === 'POST') {
    const at = new Date().toISOString()
    for (const x of inbox()) if (!x.read_at) x.read_at = at
    send(res, 200, unread())
    return true
  }
  if ((mm = p.match(/^\/me\/messages\/([^/]+)\/read$/)) && m === 'POST') {
    const x = inbox().find((y) => y.id === mm[1])
    if (!x) {
      err(res, req, 404, 'not_found', '未找到', 'Not found')
      return true
    }
    if (!x.read_at) x.read_at = new Date().toISOString()
    send(res, 200, unread())
    return true
  }
  if (p === '/message-templates' || p.startsWith('/message-templates/')) {
    if (!permissionsOf(me).includes('manage_system')) {
      err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this')
      return true
    }
    if (p === '/message-templates' && m === 'GET') {
      send(res, 200, TEMPLATES.map(view))
      return true
    }
    const key = decodeURIComponent(p.slice('/message-templates/'.length))
    const t = TEMPLATES.find((x) => x.key === key)
    if (!t) {
      err(res, req, 404, 'not_found', '未找到', 'Not found')
      return true
    }
    if (m === 'PUT') {
      const fields = {}
      for (const [f, max] of [['title_zh', 60], ['body_zh', 500], ['title_en', 120], ['body_en', 1000]]) {
        const text = String(body?.[f] ?? '')
        const n = [...text.trim()].length
        if (!n || n > max) {
          fields[f] = en ? `Required, at most ${max} characters` : `请填写（最多 ${max} 个字符）`
          continue
        }
        const unknown = namesIn(text).filter((v) => !t.vars.includes(v))
        if (unknown.length) {
          fields[f] = en
            ? `Unknown variables: ${unknown.join(', ')} (available: ${t.vars.map((v) => `{${v}}`).join(', ')})`
            : `不认识的变量：${unknown.join('、')}（可用：${t.vars.map((v) => `{${v}}`).join('、')}）`
        }
      }
      if (Object.keys(fields).length) {
        err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields)
        return true
      }
      const cur = own.get(key)
      if ((cur ? cur.version : 0) !== Number(body.version)) {
        err(res, req, 409, 'conflict', '该记录已被他人修改，请刷新后重试', 'Someone else changed this record; reload and try again')
        return true
      }
      own.set(key, {
        title_zh: body.title_zh.trim(), body_zh: body.body_zh.trim(), title_en: body.title_en.trim(), body_en: body.body_en.trim(),
        version: (cur ? cur.version : 0) + 1, updated_at: new Date().toISOString(), updated_by: me.display_name,
      })
      log(req, me, 'message_template.update', 'message_template', key, ['title_zh', 'body_zh', 'title_en', 'body_en'])
      send(res, 200, view(t))
      return true
    }
    if (m === 'DELETE') {
      own.delete(key)
      log(req, me, 'message_template.reset', 'message_template', key)
      send(res, 200, view(t))
      return true
    }
  }
  return false
}

// a customised template from the start, so the page shows both states (and a version to conflict with)
own.set('case.supervised', {
  title_zh: '【督办】{no}', body_zh: '诉求「{title}」被街道督办：{note}。请务必于 {due} 前办结并回复。',
  title_en: 'Urged: case {no}', body_en: 'The street urges the case "{title}": {note}. Finish and answer by {due}.',
  version: 2, updated_at: new Date(Date.now() - 3 * 86400000).toISOString(), updated_by: '系统管理员',
})
