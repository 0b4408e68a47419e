"""The detector of personal data in a text about to be published (app.redaction.find_identity).

A typical case is published only when the detector finds nothing in its heading and summary, so
it is measured here on realistic sentences a reporter or a supervisor writes: every sentence of
``FOUND`` must yield the given kind over the given piece, every sentence of ``CLEAN`` must yield
nothing (department names, 某公司, 张某, amounts, dates and document numbers are not personal data).
Redacting a ``FOUND`` sentence and writing it in the third person (what the draft does) must leave
nothing for the detector to find.

``ATTACK`` holds the spellings an attacker review got through (Traditional characters, separators
and invisible or combining characters between the characters, digits of other forms and scripts,
a phone number told in pieces, pinyin): the detector reads the text's skeleton and names each
finding as it was written. ``FOUND_FOR_THE_CANARY`` are the known parties of a case in any
spelling, Chinese or pinyin; ``CLEAN_SEPARATED`` is official text whose separators, decimals,
dates and quantities must not join into anything personal.
"""

from __future__ import annotations

import pytest

from app.redaction import Found, KnownParties, find_identity, for_publication, third_person

NAME, COMPANY, PHONE, ID, CREDIT, ACCOUNT = (
    Found.NAME,
    Found.COMPANY,
    Found.PHONE,
    Found.ID_NUMBER,
    Found.CREDIT_CODE,
    Found.ACCOUNT,
)
ADDRESS, PLATE, EMAIL, SELF, CASE = Found.ADDRESS, Found.PLATE, Found.EMAIL, Found.SELF, Found.CASE_NUMBER

# (sentence, kind, the piece the finding must cover)
FOUND = [
    # --- names: common surnames with one- and two-character given names, compound surnames
    ("我叫张建国，是一名个体工商户。", NAME, "张建国"),
    ("石门市恒达建材有限公司张建国反映施工许可办理超时。", NAME, "张建国"),
    ("王秀英反映窗口工作人员态度恶劣。", NAME, "王秀英"),
    ("欧阳明明称区住建局不予受理。", NAME, "欧阳明明"),
    ("司马砚秋于3月2日来电投诉。", NAME, "司马砚秋"),
    ("诸葛亮亮反映审批超时。", NAME, "诸葛亮亮"),
    ("上官婉清多次到窗口咨询。", NAME, "上官婉清"),
    ("联系人：孙丽丽，手机号码已提供。", NAME, "孙丽丽"),
    ("举报人刘德华称该局乱收费。", NAME, "刘德华"),
    ("经营者赵德胜的饭店被罚款两万元。", NAME, "赵德胜"),
    ("我和丈夫陈志强一起去的政务大厅。", NAME, "陈志强"),
    ("长河县红旗农机专业合作社负责人黄永胜反映农机补贴迟迟未发放。", NAME, "黄永胜"),
    ("李娜反映区税务局退税被拒。", NAME, "李娜"),
    ("投诉人周杰称，区市场监管局执法人员多次上门检查。", NAME, "周杰"),
    ("马云飞称已提交全部材料。", NAME, "马云飞"),
    ("业主吴海燕反映小区供暖不达标。", NAME, "吴海燕"),
    ("申请人郑晓东于2026年3月提交材料。", NAME, "郑晓东"),
    ("本人徐明，现年45岁。", NAME, "徐明"),
    ("此事由企业法定代表人何志刚反映。", NAME, "何志刚"),
    ("村民罗大勇反映土地流转款被截留。", NAME, "罗大勇"),
    ("反映人：梁静，要求尽快答复。", NAME, "梁静"),
    ("请转告冯建华，材料已补齐。", NAME, "冯建华"),
    ("工作人员李四要求提供额外材料。", NAME, "李四"),
    ("宋佳怡的公司被要求重复提交材料。", NAME, "宋佳怡"),
    ("股东唐国强、韩雪梅反映分红纠纷。", NAME, "唐国强"),
    ("股东唐国强、韩雪梅反映分红纠纷。", NAME, "韩雪梅"),
    ("姓名：曹文轩；性别：男。", NAME, "曹文轩"),
    ("来电人杜甫民称审批材料丢失。", NAME, "杜甫民"),
    ("我姓钱，名叫钱多多。", NAME, "钱多多"),
    ("企业负责人田野反映用地手续难办。", NAME, "田野"),
    ("法定代表人夏雨称已缴清费用。", NAME, "夏雨"),
    ("个体户胡春生在长安区经营一家小超市。", NAME, "胡春生"),
    ("施工队长郭小兵被拖欠工程款。", NAME, "郭小兵"),
    ("王建军和李红梅夫妇经营的农家乐被关停。", NAME, "王建军"),
    ("王建军和李红梅夫妇经营的农家乐被关停。", NAME, "李红梅"),
    ("林晓峰向区人社局反映被拖欠工资。", NAME, "林晓峰"),
    ("高志远等12名工人被拖欠工资。", NAME, "高志远"),
    # --- companies: 有限公司 / 厂 / 店 / 合作社 / 工作室 …
    ("石门市恒达建材有限公司张建国反映施工许可办理超时。", COMPANY, "石门市恒达建材有限公司"),
    ("河北金鼎房地产开发集团股份有限公司拖欠工程款。", COMPANY, "金鼎房地产开发集团股份有限公司"),
    ("长安区老王烧烤店被无故查封。", COMPANY, "老王烧烤店"),
    ("石门市第三机械厂反映用电报装慢。", COMPANY, "第三机械厂"),
    ("长河县绿源果蔬种植专业合作社的补贴被截留。", COMPANY, "绿源果蔬种植专业合作社"),
    ("长河县红旗农机专业合作社负责人黄永胜反映农机补贴迟迟未发放。", COMPANY, "红旗农机专业合作社"),
    ("诚信中介服务有限公司代办收费3000元。", COMPANY, "诚信中介服务有限公司"),
    ("向阳花艺工作室的营业执照迟迟未发。", COMPANY, "向阳花艺工作室"),
    ("顺达物流有限责任公司的车辆被扣。", COMPANY, "顺达物流有限责任公司"),
    ("美佳美容美发店的经营者反映检查过多。", COMPANY, "美佳美容美发店"),
    ("本厂（石门市红星机械厂）反映环评审批超时。", COMPANY, "红星机械厂"),
    ("华为公司在当地的项目停工。", COMPANY, "华为公司"),
    ("鑫源商贸商行被要求重复提交材料。", COMPANY, "鑫源商贸商行"),
    # --- phone numbers: mobiles in any grouping, landlines with area code and extension
    ("电话13812345678，请回电。", PHONE, "13812345678"),
    ("手机：138-1234-5678。", PHONE, "138-1234-5678"),
    ("联系方式+86 139 1234 5678。", PHONE, "139 1234 5678"),
    ("办公室座机0311-12345678。", PHONE, "0311-12345678"),
    ("请拨打(0311)87654321转8021。", PHONE, "87654321"),
    ("固话0311 8765 4321。", PHONE, "8765 4321"),
    ("联系电话：87654321。", PHONE, "87654321"),
    # --- ID numbers, credit codes, accounts
    ("身份证号130102198506120020。", ID, "130102198506120020"),
    ("证件号码13010219850612008X。", ID, "13010219850612008X"),
    ("统一社会信用代码91130102MA0CKH7T3L。", CREDIT, "91130102MA0CKH7T3L"),
    ("代码911301001234567896的企业。", CREDIT, "911301001234567896"),
    ("请退回至银行卡号6222021234567890123。", ACCOUNT, "6222021234567890123"),
    ("收款账户6222 0212 3456 7890 123。", ACCOUNT, "6222 0212 3456 7890 123"),
    # --- addresses: 省/市/区/县/镇/街道/路/号/小区/栋
    ("我家住石门市长安区建设路12号。", ADDRESS, "建设路12号"),
    ("地址：河北省石门市桥西区中华南大街118号。", ADDRESS, "中华南大街118号"),
    ("家住幸福家园5号楼1单元302室。", ADDRESS, "幸福家园5号楼1单元302室"),
    ("住在阳光小区3栋2单元501。", ADDRESS, "阳光小区3栋2单元501"),
    ("反映人住李家庄村3组15号。", ADDRESS, "李家庄村3组15号"),
    ("店铺在长安区青园街道育才街56号。", ADDRESS, "育才街56号"),
    ("仓库在高新区长江大道319号。", ADDRESS, "长江大道319号"),
    ("长河县红旗镇南关村二组的养殖场。", ADDRESS, "南关村二组"),
    ("住址：长安区翠屏花园小区。", ADDRESS, "翠屏花园小区"),
    # --- licence plates
    ("车牌冀A12345被扣。", PLATE, "冀A12345"),
    ("新能源车京AD12345无法上牌。", PLATE, "京AD12345"),
    ("车牌号为鲁B·88888的货车。", PLATE, "鲁B·88888"),
    # --- e-mail
    ("邮箱zhangjianguo@163.com。", EMAIL, "zhangjianguo@163.com"),
    ("请发至Jin.Sui-2026@mail.example.com.cn。", EMAIL, "Jin.Sui-2026@mail.example.com.cn"),
    # --- first-person self-descriptions
    ("我叫某某，是个体户。", SELF, "我"),
    ("我家住石门市长安区。", SELF, "我"),
    ("本人于2026年3月提交了材料。", SELF, "本人"),
    ("本人认为审批时限过长。", SELF, "本人"),
    ("我公司多次向区住建局反映。", SELF, "我"),
    ("我们公司被要求缴纳保证金。", SELF, "我们"),
    ("本公司已按要求整改。", SELF, "本公司"),
    ("我司于2025年中标该项目。", SELF, "我"),
    ("我今年52岁，一直在长安区经营。", SELF, "我"),
    ("俺们村的土地流转款被截留。", SELF, "俺们"),
    # --- what a careless edit or a reporter trying to get through does
    ("张 建 国反映施工许可超时。", NAME, "张 建 国"),
    ("张\u200b建国反映施工许可超时。", NAME, "张\u200b建国"),
    ("电话一三八一二三四五六七八。", PHONE, "一三八一二三四五六七八"),
    ("联系电话１３８１２３４５６７８。", PHONE, "１３８１２３４５６７８"),
    ("恆達建材有限公司反映用地难。", COMPANY, "恆達建材有限公司"),
    # --- case numbers never reach a public document
    ("工单编号YS20260315000123已办结。", CASE, "YS20260315000123"),
    # --- written after the rules above, to measure them on sentences they were not tuned on
    ("我是张志明，在长安区开了一家五金店。", NAME, "张志明"),
    ("投诉人刘芳芳的女儿在学校被欺负。", NAME, "刘芳芳"),
    ("周建平反映其承包的工程被拖欠款项。", NAME, "周建平"),
    ("我爱人孙桂兰去窗口办了三次。", NAME, "孙桂兰"),
    ("韩梅梅于2026年4月向区人社局申请失业金。", NAME, "韩梅梅"),
    ("朱红军和他的合伙人多次到政务大厅。", NAME, "朱红军"),
    ("来信人谢宝华反映拆迁补偿不到位。", NAME, "谢宝华"),
    ("赵磊投诉某物业公司乱收费。", NAME, "赵磊"),
    ("郑丽反映幼儿园收费过高。", NAME, "郑丽"),
    ("我的同事黄晓明也遇到同样的问题。", NAME, "黄晓明"),
    ("慕容雪反映营业执照被吊销。", NAME, "慕容雪"),
    ("申请人：邓国庆。", NAME, "邓国庆"),
    ("经办人冯小刚未予答复。", NAME, "冯小刚"),
    ("老板娘陈秀珍称被罚款五千元。", NAME, "陈秀珍"),
    ("请联系蒋文斌先生核实。", NAME, "蒋文斌"),
    ("杨海涛、杨海波兄弟二人经营的养殖场被关停。", NAME, "杨海涛"),
    ("唐静怡称其店铺被查封。", NAME, "唐静怡"),
    ("卢家豪今年30岁，是一名外卖员。", NAME, "卢家豪"),
    ("石门市鸿运餐饮管理有限公司反映消防审批难。", COMPANY, "鸿运餐饮管理有限公司"),
    ("长安区小李水果店被城管没收货物。", COMPANY, "小李水果店"),
    ("石门宏达汽车维修厂的环评迟迟未批。", COMPANY, "宏达汽车维修厂"),
    ("长河县丰收家庭农场反映补贴未到位。", COMPANY, "丰收家庭农场"),
    ("金盾保安服务公司拖欠保安工资。", COMPANY, "金盾保安服务公司"),
    ("百姓大药房长安店被要求停业整顿。", COMPANY, "百姓大药房长安店"),
    ("绿野农业发展有限公司的土地被占用。", COMPANY, "绿野农业发展有限公司"),
    ("老张家饺子馆反映被多次检查。", COMPANY, "老张家饺子馆"),
    ("手机号：15931112222。", PHONE, "15931112222"),
    ("电话0311-6789 1234转602。", PHONE, "6789 1234"),
    ("您可致电 18603110000 联系。", PHONE, "18603110000"),
    ("身份证：13010519900101123X。", ID, "13010519900101123X"),
    ("信用代码92130105MA0E12345F的个体户。", CREDIT, "92130105MA0E12345F"),
    ("住长安区和平路东段3号院5号楼。", ADDRESS, "和平路东段3号院5号楼"),
    ("地址：石门市新华区友谊北大街268号恒大名都7栋。", ADDRESS, "友谊北大街268号"),
    ("家住长河县城关镇幸福街18号。", ADDRESS, "幸福街18号"),
    ("车牌号冀AF52X21的新能源车。", PLATE, "冀AF52X21"),
    ("车辆晋K·3A8B9被扣押。", PLATE, "晋K·3A8B9"),
    ("邮箱地址li.ming_1988@qq.com。", EMAIL, "li.ming_1988@qq.com"),
    ("我们一家三口住在这里二十年了。", SELF, "我们"),
    ("本人系该公司法定代表人。", SELF, "本人"),
    ("我单位于2025年申请。", SELF, "我"),
]

# An attacker's spellings (the review that got a named canary published): read in the skeleton of
# the text, found where they are written.
ATTACK = [
    ("張建國反映施工许可被拖延。", NAME, "張建國"),
    ("张·建·国反映施工许可被拖延。", NAME, "张·建·国"),
    ("张-建-国反映施工许可被拖延。", NAME, "张-建-国"),
    ("张/建/国反映施工许可被拖延。", NAME, "张/建/国"),
    ("张\u00a0建\u00a0国反映施工许可被拖延。", NAME, "张\u00a0建\u00a0国"),
    ("张\u2002建\u2002国反映施工许可被拖延。", NAME, "张\u2002建\u2002国"),
    ("张\u0301建\u0308国反映施工许可被拖延。", NAME, "张\u0301建\u0308国"),
    ("张\ufe0f建\U000e0100国反映施工许可被拖延。", NAME, "张\ufe0f建\U000e0100国"),
    ("张ㆍ建ꞏ国反映施工许可被拖延。", NAME, "张ㆍ建ꞏ国"),
    ("反映人张，建，国，要求尽快答复。", NAME, "张，建，国"),
    ("我叫张·建·国。", NAME, "张·建·国"),
    ("恒·达·建·材有限公司反映用地难。", COMPANY, "恒·达·建·材有限公司"),
    ("張建國（恒·达·建·材公司）反映施工许可被拖延", NAME, "張建國"),
    ("張建國（恒·达·建·材公司）反映施工许可被拖延", COMPANY, "恒·达·建·材公司"),
    (
        "反映人张·建·国（Zhang Jianguo），联系电话138.1234.5678，系恒·达·建·材公司负责人",
        NAME,
        "张·建·国",
    ),
    (
        "反映人张·建·国（Zhang Jianguo），联系电话138.1234.5678，系恒·达·建·材公司负责人",
        NAME,
        "Zhang Jianguo",
    ),
    (
        "反映人张·建·国（Zhang Jianguo），联系电话138.1234.5678，系恒·达·建·材公司负责人",
        PHONE,
        "138.1234.5678",
    ),
    (
        "反映人张·建·国（Zhang Jianguo），联系电话138.1234.5678，系恒·达·建·材公司负责人",
        COMPANY,
        "恒·达·建·材公司",
    ),
    ("联系电话138.1234.5678。", PHONE, "138.1234.5678"),
    ("手机138\u00a01234\u20025678。", PHONE, "138\u00a01234\u20025678"),
    ("电话①③⑧①②③④⑤⑥⑦⑧。", PHONE, "①③⑧①②③④⑤⑥⑦⑧"),
    ("电话¹³⁸¹²³⁴⁵⁶⁷⁸。", PHONE, "¹³⁸¹²³⁴⁵⁶⁷⁸"),
    ("您可致电𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖。", PHONE, "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖"),
    ("请拨打١٣٨١٢٣٤٥٦٧٨。", PHONE, "١٣٨١٢٣٤٥٦٧٨"),
    ("请拨打۱۳۸۱۲۳۴۵۶۷۸。", PHONE, "۱۳۸۱۲۳۴۵۶۷۸"),
    ("手机前三位138，中间四位1234，最后四位5678。", PHONE, "138"),
    ("号码是138。1234。5678。", PHONE, "5678"),
    ("电话1三8一二三四5六七八。", PHONE, "1三8一二三四5六七八"),
    ("张（建）国反映审批超时。", NAME, "张（建）国"),
    ("反映人Zhang Jianguo称审批超时。", NAME, "Zhang Jianguo"),
    ("联系人：zhangjianguo。", NAME, "zhangjianguo"),
    ("张某（Jianguo Zhang）反映审批超时。", NAME, "Jianguo Zhang"),
]

CLEAN = [
    "区住建局于2026年3月10日受理该诉求后，5个工作日内组织现场核查。",
    "市场监督管理局、区行政审批局、市发改委、县人民政府办公室和政务服务中心联合召开协调会。",
    "国家税务总局石门市税务局第一稽查局依法作出处理。",
    "某公司反映区行政审批局推诿扯皮。",
    "某企业反映，该局要求其找指定中介代办。",
    "张某反映，市场监督管理局已受理。",
    "欧阳某称已办结，张某某和王某表示满意。",
    "反映人称，其于2026年3月提交材料，至今未获答复。",
    "经查，该局存在“门难进、脸难看、事难办”问题，对相关责任人予以诫勉谈话。",
    "窗口设在政务服务中心3号楼一层5号窗口，咨询请拨打12345政务服务便民热线。",
    "根据《优化营商环境条例》第十二条和石政办发〔2025〕15号文件执行。",
    "该项目位于高新区，总投资20亿元，占地150亩，可带动就业800人。",
    "企业于2024年9月申请施工许可证，至2026年1月仍未办结，涉及金额3500万元。",
    "区行政审批局许可科当日办结，许可证已送达。",
    "我市持续优化营商环境，我省出台十条措施，我局已全面整改。",
    "窗口人员答复称“我们这里办不了，你去找别人”。",
    "窗口工作人员态度很好，张先生和王女士都很满意。",
    "石门市长安区、长河县红旗镇的企业均可申请。",
    "高新区管委会主动上门服务，当天办结。",
    "全市开展文明城市创建工作，宁可多跑一趟，也不让企业多跑一次。",
    "阳光政务平台公开了办理结果。",
    "要求企业到指定的中介公司办理，收费5000元。",
    "物业公司未按合同提供供暖服务，开发商拖欠农民工工资120万元。",
    "长安区一家烧烤店被无故查封，该店经营者称已办证。",
    "涉事企业负责人称已整改，当事企业表示满意。",
    "建设银行石门分行为企业发放贷款300万元。",
    "明确由区行政审批局牵头，在3个工作日内办结。",
    "路政、城管、交警联合执法，常务副市长主持召开专题会议。",
    "市委书记批示，要求严肃问责，责令限期整改，并在全市通报批评。",
    "2025年度共受理诉求1200件，办结率98.5%，发票号码12345678已核验。",
    "申请人本人须到场签字，经营者称其已申请。",
    "包括营业执照、税务登记等材料，严格的程序必须遵守。",
    "某餐饮店反映消防验收难，该厂厂长表示配合。",
    "于是向区政府反映，关于施工许可证办理超时问题已答复。",
    "方便企业群众办事，安全生产无小事，高效办成一件事。",
    "白天黑夜连续施工，周边群众反映噪音扰民。",
    "金额合计126.5万元，程序合法。",
    "自2026年1月1日起施行，有效期5年。",
    "营商督〔2026〕第3号提醒敦促函已送达。",
    "该公司于2025年中标，项目经理称工期紧张。",
    "区纪委监委对相关人员予以政务处分。",
    "有群众通过“营商110”平台反映区住建局存在“推诿扯皮”问题。",
    "经营部门、管理部门和服务部门协同办理。",
    "城管执法人员在建设路一带巡查，黄河大道沿线商户反映占道问题。",
    "办理结果：已为该企业办结变更手续，退还费用5000元。",
    "张工反映的问题已解决，张总和老张都表示满意。",
    # --- written after the rules above
    "区行政审批局于当日受理，3个工作日内办结。",
    "市住建局城建科科长主持召开协调会。",
    "该局窗口工作人员存在推诿扯皮问题。",
    "长安区人民政府办公室印发通知。",
    "经核实，反映问题属实，已责令整改。",
    "王某某称已收到退款，对办理结果表示满意。",
    "某物业公司已退还多收的物业费2000元。",
    "个体工商户反映办照难，已现场办结。",
    "企业开办时间压缩至1个工作日。",
    "市政务服务中心设置“办不成事”反映窗口。",
    "该中介机构已被列入失信名单。",
    "涉事民警已被停职检查。",
    "平安银行、招商银行为企业开通绿色通道。",
    "全市共有12家企业受益，减免租金300万元。",
    "高速公路收费站工作人员态度恶劣。",
    "该街道办事处已约谈物业负责人。",
    "长河县城关镇人民政府组织核查。",
    "按照“谁主管、谁负责”的原则办理。",
    "向阳区行政审批局已完成整改。",
    "黄河路街道社区卫生服务中心已恢复营业。",
    "天津、上海等地的经验值得借鉴。",
    "经济开发区管委会召开专题会。",
    "经查，所反映的欠款问题已协调解决。",
    "区市场监管局依法对该店作出罚款决定。",
    "窗口人员一次性告知所需材料清单。",
    "请拨打12345或0311-12345热线咨询。",
    "城市管理综合行政执法局已恢复其摊位。",
    "该企业于2026年2月取得施工许可证。",
    "该合作社的补贴资金已足额发放。",
    "相关责任人受到党内警告处分。",
]

# Written for the skeleton: separators, decimals, dates, lists and quantities that join into
# nothing personal, and Traditional characters.
CLEAN_SEPARATED = [
    "2026.03.15-2026.04.15期间集中受理。",
    "办结率98.5%，群众满意度99.2%。",
    "路政/城管/交警联合执法。",
    "第1-3栋已完成验收。",
    "共受理150件，涉及1200户、3500万元。",
    "请拨打12345、12315热线咨询。",
    "省、市、县三级联动办理。",
    "会议于9:30-11:30召开。",
    "上海（Shanghai）、天津等地的经验值得借鉴。",
    "全市新增市场主体1.2万户，同比增长13.5%。",
    "2025年12月31日前完成，涉及13个乡镇、45个村。",
    "根据《条例》第3、4、5条处理。",
    "窗口编号A-12，服务电话12345。",
    "按照“一网通办”要求办理。",
    "臺灣同胞投資企業服務中心主動上門服務。",
    "國務院辦公廳印發通知，要求優化營商環境。",
    "举办“石门·长安”营商环境论坛。",
    "2026/04/15前提交材料。",
    "受理时间为周一至周五8:30—17:30。",
    "区政务服务中心（一楼·A区）设有帮办窗口。",
    "涉及资金1,200,000元，已于2026-04-30前拨付。",
    "全区138家企业、1234名职工受益，5678万元资金到位。",
    "《石门市优化营商环境条例》（2025年修订版）第十二条。",
    "“一件事一次办”改革覆盖13个部门、45项事项。",
]


def covers(finding, sentence: str, piece: str) -> bool:
    start = sentence.index(piece)
    return finding.start < start + len(piece) and start < finding.end


@pytest.mark.parametrize(("sentence", "kind", "piece"), FOUND + ATTACK)
def test_the_detector_finds_personal_data(sentence, kind, piece):
    found = find_identity(sentence)
    assert any(f.kind == kind and covers(f, sentence, piece) for f in found), found


@pytest.mark.parametrize("sentence", CLEAN + CLEAN_SEPARATED)
def test_the_detector_leaves_plain_official_text_alone(sentence):
    assert find_identity(sentence) == []


@pytest.mark.parametrize("sentence", sorted({s for s, _, _ in FOUND + ATTACK}))
def test_a_sentence_made_fit_for_publication_passes_the_detector(sentence):
    out = for_publication(sentence, KnownParties(), warning=True)
    assert find_identity(out) == [], out


@pytest.mark.parametrize("sentence", CLEAN + CLEAN_SEPARATED)
def test_making_plain_text_fit_for_publication_changes_nothing(sentence):
    assert for_publication(sentence, KnownParties(), warning=True) == sentence


def test_the_known_parties_are_found_in_any_form():
    parties = KnownParties(
        reporter_names=("李娜",),
        reporter_phones=("0311 6655 4433",),
        reporter_companies=("石门市金穗粮油贸易有限公司",),
        credit_codes=("91130102MA0CKH7T3L",),
    )
    text = "李娜说，金穗公司和金穗粮油的座机0311-66554433，代码91130102ma0ckh7t3l。"
    kinds = {(f.kind, f.text) for f in find_identity(text, parties)}
    assert {(NAME, "李娜"), (COMPANY, "金穗公司"), (COMPANY, "金穗粮油")} <= kinds
    assert (NAME, "建国") in {
        (f.kind, f.text) for f in find_identity("建国多次到窗口。", KnownParties(("张建国",)))
    }
    assert {k for k, _ in kinds} >= {PHONE, CREDIT}


# The canary reporter of the attack: known parties are found in every spelling, Chinese or pinyin.
CANARY = KnownParties(
    reporter_names=("张建国",),
    reporter_phones=("138 1234 5678",),
    reporter_companies=("石门市恒达建材有限公司",),
    credit_codes=("91130102MA0CKH7T3L",),
)
FOUND_FOR_THE_CANARY = [
    ("Zhang Jianguo反映施工许可被拖延。", NAME, "Zhang Jianguo"),
    ("zhangjianguo多次到窗口。", NAME, "zhangjianguo"),
    ("Jianguo Zhang称已提交材料。", NAME, "Jianguo Zhang"),
    ("ZHANG Jian-Guo称已提交材料。", NAME, "ZHANG Jian-Guo"),
    ("Zhāng Jiànguó称已提交材料。", NAME, "Zhāng Jiànguó"),
    ("zhang1 jian4 guo2称已提交材料。", NAME, "zhang1 jian4 guo2"),
    ("Jianguo多次到窗口。", NAME, "Jianguo"),
    ("建國多次到窗口。", NAME, "建國"),
    ("張建國多次到窗口。", NAME, "張建國"),
    ("张\u200d建\u200c国称已提交材料。", NAME, "张\u200d建\u200c国"),
    ("Zh\u0430ng Ji\u0430nguo称已提交材料。", NAME, "Zh\u0430ng Ji\u0430nguo"),  # Cyrillic а
    ("Hengda Jiancai Co., Ltd.反映用地难。", COMPANY, "Hengda Jiancai"),
    ("HENGDA公司反映用地难。", COMPANY, "HENGDA公司"),
    ("恆達建材反映用地难。", COMPANY, "恆達建材"),
    ("恒·达·建·材多次反映。", COMPANY, "恒·达·建·材"),
    ("回电1 3 8 / 1 2 3 4 / 5 6 7 8。", PHONE, "1 3 8 / 1 2 3 4 / 5 6 7 8"),
    ("代码9113 0102-MA0C KH7T 3L。", CREDIT, "9113 0102-MA0C KH7T 3L"),
    # a second attack: letters, digits or brackets between the characters, initials, numbers in
    # words split by commas, letters between the digits, a company named in English
    ("张X建X国（恒x达x建x材公司）反映施工许可被拖延", NAME, "张X建X国"),
    ("张X建X国（恒x达x建x材公司）反映施工许可被拖延", COMPANY, "恒x达x建x材"),
    ("张1建2国反映审批超时。", NAME, "张1建2国"),
    ("恒(heng)达(da)建材公司反映用地难。", COMPANY, "恒(heng)达(da)建材"),
    ("反映人Zhang J.G.（zhangjg）称已提交材料。", NAME, "Zhang J.G"),
    ("反映人Zhang J.G.（zhangjg）称已提交材料。", NAME, "zhangjg"),
    ("Z.J.G.称已提交材料。", NAME, "Z.J.G"),
    ("张某（J.G.）称已提交材料。", NAME, "J.G."),
    ("Chang Chien-kuo反映施工许可被拖延。", NAME, "Chang Chien-kuo"),
    ("Chang Ch'ien-kuo反映施工许可被拖延。", NAME, "Chang Ch'ien-kuo"),
    ("联系电话幺三八，一二三四，五六七八。", PHONE, "幺三八，一二三四，五六七八"),
    ("回电138a1234b5678。", PHONE, "138a1234b5678"),
    ("手机尾号5678。", PHONE, "5678"),
    ("系Hengda Building Materials Co., Ltd.负责人。", COMPANY, "Hengda Building Materials Co., Ltd."),
]


@pytest.mark.parametrize(("sentence", "kind", "piece"), FOUND_FOR_THE_CANARY)
def test_the_known_parties_are_found_in_every_spelling(sentence, kind, piece):
    found = find_identity(sentence, CANARY)
    assert any(f.kind == kind and f.text == piece for f in found), found


@pytest.mark.parametrize("sentence", sorted({s for s, _, _ in FOUND_FOR_THE_CANARY}))
def test_a_spelling_of_the_known_parties_made_fit_for_publication_passes_the_detector(sentence):
    out = for_publication(sentence, CANARY, warning=True)
    assert find_identity(out, CANARY) == [], out


def test_the_pinyin_of_a_known_party_is_found_only_as_a_whole_word():
    for text in ("Zhangjiakou是河北省的城市。", "zhang jian guo jia", "Guo Jianzhang反映审批超时。"):
        assert all(f.text not in ("Zhangjiakou", "Guo Jianzhang") for f in find_identity(text, CANARY))
    assert [f.text for f in find_identity("zhang jian guo jia", CANARY)] == ["zhang jian guo"]


def test_the_findings_name_the_text_as_written():
    text = "反映人张·建·国（Zhang Jianguo），联系电话①③⑧·①②③④·⑤⑥⑦⑧。"
    found = find_identity(text)
    assert [(f.kind, f.text) for f in found] == [
        (NAME, "张·建·国"),
        (NAME, "Zhang Jianguo"),
        (PHONE, "①③⑧·①②③④·⑤⑥⑦⑧"),
    ]
    assert all(text[f.start : f.end] == f.text for f in found)


def test_a_warning_case_may_name_the_official_concerned_an_exemplary_one_may_not():
    parties = KnownParties(officials=("李建军",), departments=("长安区行政审批局",))
    text = "长安区行政审批局窗口工作人员李建军推诿扯皮，被诫勉谈话。"
    assert find_identity(text, parties, warning=True) == []
    assert [(f.kind, f.text) for f in find_identity(text, parties, warning=False)] == [(NAME, "李建军")]


@pytest.mark.parametrize(
    ("first", "third"),
    [
        ("我公司于2026年3月申请施工许可。", "该企业于2026年3月申请施工许可。"),
        ("我叫某某，我家住石门市长安区，我于3月提交材料。", "反映人于3月提交材料。"),
        ("本人多次到窗口咨询，我们被要求找中介。", "反映人多次到窗口咨询，反映人被要求找中介。"),
        ("窗口人员称“我们办不了”，我只好离开。", "窗口人员称“我们办不了”，反映人只好离开。"),
        ("电话***，邮箱[邮箱已删除]，我的店被查封。", "其店被查封。"),
    ],
)
def test_the_third_person(first, third):
    assert third_person(first) == third
