// 消息中心 (MessagesView, the header bell) and 消息模板 (MessageTemplatesView), merged into zh-CN.js.
export default {
  inbox: {
    title: '消息', bell: '消息', bellUnread: '消息，{n} 条未读',
    tabUnread: '未读', tabAll: '全部', readAll: '全部标为已读', readAllDone: '已全部标为已读',
    urgent: '紧急', unreadDot: '未读', open: '查看', total: '共 {n} 条',
    emptyUnread: '没有未读消息', emptyAll: '暂无消息',
    emptyHint: '派单、督办、吹哨、诉求办结等通知会出现在这里。', showAll: '查看全部消息',
    loadFailed: '消息加载失败', retry: '重试', notFound: '这条消息已不存在', noPage: '这条消息对应的页面您无权打开',
    // 消息接收方式 (MyChannelsDialog)
    ch: {
      open: '接收方式', title: '消息接收方式',
      intro: '站内消息始终开启。关闭某个渠道后，普通消息不再通过它发给您；督办、吹哨等紧急消息仍会送达。',
      name: { inbox: '站内消息', sms: '手机短信', email: '电子邮件', wecom_app: '企业微信', webhook: '对接系统推送' },
      desc: {
        inbox: '在本系统的“消息”中查看', sms: '发送到为您登记的手机号', email: '发送到为您登记的电子邮箱',
        wecom_app: '通过本单位的企业微信应用发给您', webhook: '推送到本单位对接的其他系统（如办公平台）',
      },
      na: {
        sms: '管理员尚未为您登记手机号，或本系统未开通短信服务',
        email: '管理员尚未为您登记邮箱，或本系统未配置邮件服务',
        wecom_app: '管理员尚未为您登记企业微信账号，或本系统未接入企业微信',
        webhook: '本系统未配置对接推送',
        other: '本系统暂未开通',
        service: { sms: '本系统未开通短信服务', email: '本系统未配置邮件服务', wecom_app: '本系统未接入企业微信' },
        address: { sms: '管理员尚未为您登记手机号', email: '管理员尚未为您登记邮箱', wecom_app: '管理员尚未为您登记企业微信账号' },
      },
      always: '始终开启', unavailable: '暂不可用',
      askAdmin: '需要开通暂不可用的方式，请联系本单位的账号管理员登记手机号、邮箱或企业微信账号。',
      turnedOn: '已开启{name}', turnedOff: '已关闭{name}，紧急消息仍会发送', saveFailed: '设置未保存，请重试', loadFailed: '接收方式加载失败',
    },
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
