// zh-CN by default, English switchable; the choice is kept in this browser only.
const zh = {
  title: 'Custos 控制台', language: 'English', signin: '登录', staff_id: '员工编号', password: '密码',
  totp: '动态验证码（TOTP）', new_password: '新密码（管理员重置后须修改）', signout: '退出登录',
  signed_in_as: '当前用户', expired: '会话已过期或已退出，请重新登录。', purpose: '处理目的',
  choose_purpose: '— 请选择处理目的 —', need_purpose: '请先在页面顶部选择处理目的：控制台不会替您选择。',
  nav_agent: '客服', nav_dpo: '数据保护官', nav_security: '安全管理员',
  find: '查找客户', by_phone: '手机号', by_id_number: '身份证号', by_email: '电子邮箱', value: '查找值', search: '查找',
  customer_id: '客户编号', open: '打开', results: '查找结果', none: '无', customer: '客户资料',
  field: '字段', transactions: '交易记录', notes: '沟通记录', consents: '同意记录', add_note: '添加沟通记录',
  note_text: '记录内容', save: '保存', saved: '已保存。', open_dsr: '为来电客户登记个人信息权利请求',
  dsr_kind: '请求类型', reference: '工单号（不含个人信息）', submit: '提交', dsr_opened: '已登记，答复期限：',
  dashboard: '概览', dsr_queue: '个人信息权利请求队列', approvals: '审批', audit: '审计查询', open_requests: '未结请求',
  overdue: '已逾期', due_soon: '三日内到期', pending_approvals: '待审批', training_lapses: '培训已过期',
  consent_coverage: '同意覆盖率', retention: '保存期限：到期与冻结', alerts: '告警',
  not_yet: '有待相应 API 上线（见 docs/console.md）。', by_state: '请求状态分布', kind: '类型', due: '答复期限',
  state: '状态', opened_by: '登记人', actions: '操作', close: '关闭', outcome: '结果', verify: '记录身份核验',
  method: '核验方式', evidence: '证据位置', requester: '申请人', justification: '理由', requested_at: '申请时间',
  expires_at: '失效时间', approve: '批准', reject: '驳回', own_request: '您本人的申请：须由他人审批',
  request_approval: '申请授予角色（双人控制）', roles: '角色', request: '提交申请', approved: '已批准。', rejected: '已驳回。',
  actor: '员工', from: '起始日期', to: '截止日期', time: '时间', action: '操作', decision: '决定', target: '对象',
  staff: '员工', name: '姓名', post: '岗位', status: '状态', second_factor: '双因素', locked: '锁定',
  posts: '岗位与角色', tokens: '访问令牌', revoke: '吊销', revoked: '已吊销。', label: '标签', created: '创建',
  keys: '密钥状态与轮换', backups: '备份与校验', doctor: '自检（doctor）', reports: '报表', incidents: '事件与违规',
  sod: '职责分离', sod_warning: '同时拥有申请与批准权限，请复核职责分离。', yes: '是', no: '否', loading: '加载中…',
  error: '出错', empty: '暂无记录', time_zone: '时区', retention_plans: '保存期限计划（销毁须经批准）',
  retention_hint: '保存期限计划的销毁申请在“审批”中批准；计划与执行的页面有待 /v1/retention API。',
  search_refused: '查找被拒绝', next: '下一页', hours: '有效期（小时）', field_value: '值（按角色掩码）',
};
const en = {
  title: 'Custos console', language: '中文', signin: 'Sign in', staff_id: 'Staff id', password: 'Password',
  totp: 'One-time code (TOTP)', new_password: 'New password (required after a reset)', signout: 'Sign out',
  signed_in_as: 'Signed in as', expired: 'The session has expired or was signed out: sign in again.', purpose: 'Purpose',
  choose_purpose: '— choose the purpose —', need_purpose: 'Choose a purpose at the top of the page first: the console never picks one for you.',
  nav_agent: 'Support', nav_dpo: 'DPO', nav_security: 'Security admin',
  find: 'Find a customer', by_phone: 'Phone', by_id_number: 'ID number', by_email: 'E-mail', value: 'Value', search: 'Search',
  customer_id: 'Customer id', open: 'Open', results: 'Results', none: 'None', customer: 'Customer',
  field: 'Field', transactions: 'Transactions', notes: 'Notes', consents: 'Consents', add_note: 'Add a note',
  note_text: 'Note', save: 'Save', saved: 'Saved.', open_dsr: "Open a subject request for the caller",
  dsr_kind: 'Kind', reference: 'Ticket reference (no personal data)', submit: 'Submit', dsr_opened: 'Registered, due by ',
  dashboard: 'Dashboard', dsr_queue: 'Subject-request queue', approvals: 'Approvals', audit: 'Audit search', open_requests: 'Open requests',
  overdue: 'Overdue', due_soon: 'Due within 3 days', pending_approvals: 'Pending approvals', training_lapses: 'Lapsed training',
  consent_coverage: 'Consent coverage', retention: 'Retention: due and held', alerts: 'Alerts',
  not_yet: 'Awaits its API (see docs/console.md).', by_state: 'Requests by state', kind: 'Kind', due: 'Due',
  state: 'State', opened_by: 'Opened by', actions: 'Actions', close: 'Close', outcome: 'Outcome', verify: 'Record verification',
  method: 'Method', evidence: 'Evidence reference', requester: 'Requester', justification: 'Justification', requested_at: 'Requested',
  expires_at: 'Expires', approve: 'Approve', reject: 'Reject', own_request: 'Your own request: another person decides',
  request_approval: 'Request a role grant (dual control)', roles: 'Roles', request: 'Request', approved: 'Approved.', rejected: 'Rejected.',
  actor: 'Staff', from: 'From', to: 'To', time: 'Time', action: 'Action', decision: 'Decision', target: 'Target',
  staff: 'Staff', name: 'Name', post: 'Post', status: 'Status', second_factor: 'TOTP', locked: 'Locked',
  posts: 'Posts and roles', tokens: 'Tokens', revoke: 'Revoke', revoked: 'Revoked.', label: 'Label', created: 'Created',
  keys: 'Key status and rotation', backups: 'Backups and verification', doctor: 'Doctor', reports: 'Reports', incidents: 'Incidents and violations',
  sod: 'Separation of duties', sod_warning: 'Can both request and approve: review the separation of duties.', yes: 'yes', no: 'no', loading: 'Loading…',
  error: 'Error', empty: 'Nothing yet', time_zone: 'Time zone', retention_plans: 'Retention plans (destruction needs approval)',
  retention_hint: 'A retention plan\'s destruction request is approved under Approvals; plan and run screens await /v1/retention.',
  search_refused: 'Search refused', next: 'Next page', hours: 'Valid for (hours)', field_value: 'Value (masked by role)',
};
const purposes = {
  zh: { customer_service: '客户服务', account_management: '账户管理', marketing: '营销', risk_control: '风控', analytics: '数据分析', legal_obligation: '法定义务' },
  en: { customer_service: 'Customer service', account_management: 'Account management', marketing: 'Marketing', risk_control: 'Risk control', analytics: 'Analytics', legal_obligation: 'Legal obligation' },
};

let lang = 'zh';
try {
  if (localStorage.getItem('custos.lang') === 'en') lang = 'en';
} catch (_) { /* storage off: Chinese */ }

export function t(key) {
  return (lang === 'en' ? en : zh)[key] ?? key;
}
export function language() {
  return lang;
}
export function toggleLanguage() {
  lang = lang === 'en' ? 'zh' : 'en';
  try { localStorage.setItem('custos.lang', lang); } catch (_) { /* not kept */ }
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
}
export function purposeLabel(name) {
  return purposes[lang][name] ?? name;
}
export const PURPOSES = Object.keys(purposes.zh);

// A date in the company's time zone ([server] time_zone), in the chosen language.
export function formatDate(ms, zone) {
  if (!ms) return '';
  try {
    return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    }).format(new Date(ms));
  } catch (_) {
    return new Date(ms).toISOString();
  }
}
