// The inbox (MessagesView, the header bell) and message templates (MessageTemplatesView), merged into en.js.
export default {
  inbox: {
    title: 'Messages', bell: 'Messages', bellUnread: 'Messages, {n} unread',
    tabUnread: 'Unread', tabAll: 'All', readAll: 'Mark all as read', readAllDone: 'All marked as read',
    urgent: 'Urgent', unreadDot: 'Unread', open: 'Open', total: '{n} in all',
    emptyUnread: 'No unread messages', emptyAll: 'No messages yet',
    emptyHint: 'Dispatches, urgings, whistles and closed cases are announced here.', showAll: 'See all messages',
    loadFailed: 'The messages did not load', retry: 'Try again', notFound: 'This message no longer exists', noPage: 'You cannot open the page of this message',
    // how messages reach me (MyChannelsDialog)
    ch: {
      open: 'Delivery', title: 'How messages reach me',
      intro: 'The inbox is always on. With a channel turned off, ordinary messages no longer come by it; urgent ones (urgings, whistles) still do.',
      name: { inbox: 'Inbox', sms: 'SMS', email: 'E-mail', wecom_app: 'WeCom', webhook: 'Connected system' },
      desc: {
        inbox: 'Read under Messages in this system', sms: 'To the mobile on file for you', email: 'To the e-mail address on file for you',
        wecom_app: "Through your office's WeCom app", webhook: 'Pushed to another system your office connected (e.g. its OA)',
      },
      na: {
        sms: 'No mobile on file for you yet, or SMS is not set up here',
        email: 'No e-mail address on file for you yet, or e-mail is not set up here',
        wecom_app: 'No WeCom account on file for you yet, or WeCom is not set up here',
        webhook: 'No connected system is set up here',
        other: 'Not set up here',
        service: { sms: 'SMS is not set up here', email: 'E-mail is not set up here', wecom_app: 'WeCom is not set up here' },
        address: { sms: 'No mobile on file for you yet', email: 'No e-mail address on file for you yet', wecom_app: 'No WeCom account on file for you yet' },
      },
      always: 'Always on', unavailable: 'Not available',
      askAdmin: "To use a channel that is not available, ask your office's account administrator to record your mobile, e-mail or WeCom account.",
      turnedOn: '{name} turned on', turnedOff: '{name} turned off; urgent messages still come', saveFailed: 'Not saved; try again', loadFailed: 'The channels did not load',
    },
  },
  msgTpl: {
    title: 'Message templates',
    intro: 'Every kind of message gongzhi sends can be reworded, in Chinese and English, to suit your office; the new wording applies at once to messages not yet read. The variables in braces are filled in when a message is sent.',
    about: 'Purpose', key: 'Key', wording: 'Wording in use', status: 'Status', customised: 'Reworded', shipped: 'Default',
    updated: 'Changed by / at', edit: 'Edit', reset: 'Restore default', empty: 'No message templates',
    editTitle: 'Edit message template', zh: '中文', en: 'English', titleZh: 'Title (Chinese)', bodyZh: 'Body (Chinese)', titleEn: 'Title (English)', bodyEn: 'Body (English)',
    vars: 'Variables', varsHint: 'Click a variable to insert it at the cursor (appended to the Chinese body when no field has the focus). Only these may be used.',
    preview: 'Example: ', required: 'Required', tooLong: 'At most {n} characters', unknownVar: 'Unknown variables: {names} (available: {vars})',
    saved: 'Message template saved', resetConfirm: 'Restore the default wording of “{about}”? Your office’s wording is removed.', resetDone: 'Default wording restored',
    conflict: 'Someone else changed this template; reload it before editing.', reload: 'Load the latest', reloaded: 'The latest wording is loaded; make your changes again',
    var: { no: 'Case number', title: 'Case title', category: 'Category', due: 'Deadline', street: 'Street', unit: 'Unit', note: 'Note / reason', minutes: 'Minutes', area: 'Area' },
    sample: { no: 'GZ20260512-0031', title: 'Rubbish piled at the gate', category: 'City appearance', due: '2026-05-13 17:00', street: 'Xianfeng Street', unit: 'District city management', note: 'Not our unit\'s duty', minutes: '30', area: 'Chaoyang Community' },
    loadFailed: 'The message templates did not load', retry: 'Try again',
  },
}
