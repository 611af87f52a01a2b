// 消息中心 (MessagesView, the header bell) and 消息模板 (MessageTemplatesView), merged into zh-CN.js.
export default {
  inbox: {
    title: '消息', bell: '消息', bellUnread: '消息，{n} 条未读',
    tabUnread: '未读', tabAll: '全部', readAll: '全部标为已读', readAllDone: '已全部标为已读',
    urgent: '紧急', unreadDot: '未读', open: '查看', total: '共 {n} 条',
    emptyUnread: '没有未读消息', emptyAll: '暂无消息',
    emptyHint: '派单、督办、吹哨、诉求办结等通知会出现在这里。', showAll: '查看全部消息',
    loadFailed: '消息加载失败', retry: '重试', notFound: '这条消息已不存在', noPage: '这条消息对应的页面您无权打开',
  },
  msgTpl: {
    title: '消息模板',
    intro: '系统发出的每一类消息都可以按本单位的习惯改写中英文措辞，保存后对尚未阅读的消息立即生效。措辞中用花括号括起的变量会在发送时替换为实际内容。',
    about: '用途', key: '模板键', wording: '当前措辞', status: '状态', customised: '已改写', shipped: '系统默认',
    updated: '修改人 / 时间', edit: '编辑', reset: '恢复默认', empty: '没有消息模板',
    editTitle: '编辑消息模板', zh: '中文', en: 'English', titleZh: '标题（中文）', bodyZh: '正文（中文）', titleEn: '标题（英文）', bodyEn: '正文（英文）',
    vars: '可用变量', varsHint: '点击变量插入到光标处（未选中输入框时追加到中文正文末尾）。只能使用这些变量。',
    preview: '示例：', required: '请填写', tooLong: '最多 {n} 个字符', unknownVar: '不认识的变量：{names}（可用：{vars}）',
    saved: '消息模板已保存', resetConfirm: '将“{about}”恢复为系统默认措辞？本单位的改写会被删除。', resetDone: '已恢复默认措辞',
    conflict: '该模板已被他人修改，请刷新后再改。', reload: '载入最新内容', reloaded: '已载入最新内容，请重新修改',
    var: { no: '诉求编号', title: '诉求标题', category: '事项分类', due: '期限', street: '街道', unit: '承办单位', note: '说明/理由', minutes: '分钟数', area: '发布区域' },
    sample: { no: 'GZ20260512-0031', title: '小区门口垃圾堆放', category: '市容环境', due: '2026-05-13 17:00', street: '先锋街道', unit: '区城管委', note: '不属于本单位职责', minutes: '30', area: '朝阳社区' },
    loadFailed: '消息模板加载失败', retry: '重试',
  },
}
