"""Demo data: a province → city → county department tree, one user per role, and cases in
every status (driven through the real services, so every timeline is genuine)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from app import clock
from app.enums import FOUNDED, CaseType, Channel, DeptLevel, FindingResult, Grade, Rating, Urgency
from app.errors import DomainError
from app.services import cases as svc
from app.services import levels, protection
from app.services.actor import Actor
from app.services.windows import new_window_token
from app.workflow import Action, Role, Status
from models import Category, Department, DispatchRule, Jurisdiction, ServiceWindow, Staff

DEMO_PASSWORD = "Demo@2026"

# (code, name, level, parent code, head, region)
DEPARTMENTS = [
    ("P00", "清源省营商环境建设局", DeptLevel.PROVINCE, None, "周明", "清源省"),
    ("P01", "清源省市场监督管理局", DeptLevel.PROVINCE, None, "李华", "清源省"),
    ("P02", "清源省纪委监委驻营商局纪检组", DeptLevel.PROVINCE, None, "王正", "清源省"),
    ("C10", "石门市营商环境建设局", DeptLevel.CITY, "P00", "赵刚", "清源省/石门市"),
    ("C11", "石门市市场监督管理局", DeptLevel.CITY, "P01", "钱进", "清源省/石门市"),
    ("C12", "石门市住房和城乡建设局", DeptLevel.CITY, "P00", "孙立", "清源省/石门市"),
    ("C20", "北岭市营商环境建设局", DeptLevel.CITY, "P00", "吴涛", "清源省/北岭市"),
    ("C21", "北岭市市场监督管理局", DeptLevel.CITY, "P01", "郑洁", "清源省/北岭市"),
    ("X101", "长河县营商环境建设局", DeptLevel.COUNTY, "C10", "冯勇", "清源省/石门市/长河县"),
    ("X102", "长河县行政审批局", DeptLevel.COUNTY, "C10", "陈静", "清源省/石门市/长河县"),
    ("X103", "长河县市场监督管理局", DeptLevel.COUNTY, "C11", "褚强", "清源省/石门市/长河县"),
    ("X111", "东城区行政审批局", DeptLevel.COUNTY, "C10", "卫东", "清源省/石门市/东城区"),
    ("X112", "东城区城市管理综合执法局", DeptLevel.COUNTY, "C12", "蒋平", "清源省/石门市/东城区"),
    ("X201", "西山县营商环境建设局", DeptLevel.COUNTY, "C20", "沈亮", "清源省/北岭市/西山县"),
    ("X202", "西山县自然资源和规划局", DeptLevel.COUNTY, "C20", "韩梅", "清源省/北岭市/西山县"),
    ("X203", "西山县市场监督管理局", DeptLevel.COUNTY, "C21", "杨帆", "清源省/北岭市/西山县"),
]

# The jurisdictions that run a 营商环境 office: (code, name, level, parent code, region, office,
# document-number prefix). The root (created by the migration) becomes the province.
JURISDICTIONS = [
    ("QY", "清源省", DeptLevel.PROVINCE, None, "清源省", "清源省营商环境建设局", "清营商督"),
    ("SM", "石门市", DeptLevel.CITY, "QY", "清源省/石门市", "石门市营商环境建设局", "石营商督"),
    ("BL", "北岭市", DeptLevel.CITY, "QY", "清源省/北岭市", "北岭市营商环境建设局", "北营商督"),
    ("CH", "长河县", DeptLevel.COUNTY, "SM", "清源省/石门市/长河县", "长河县营商环境建设局", "长营商督"),
    (
        "DC",
        "东城区",
        DeptLevel.COUNTY,
        "SM",
        "清源省/石门市/东城区",
        "石门市东城区营商环境建设局",
        "东营商督",
    ),
    ("XS", "西山县", DeptLevel.COUNTY, "BL", "清源省/北岭市/西山县", "西山县营商环境建设局", "西营商督"),
]
# What each office's notices print: the 附注 contact and the 抄送 line (one office a line).
OFFICE_CONTACTS = {
    "QY": ("李晓东", "0311-87901110", "清源省纪委监委驻省营商环境建设局纪检监察组"),
    "SM": ("王敏", "0311-86012345", "石门市纪委监委驻市营商环境建设局纪检监察组\n石门市人民政府办公室"),
    "BL": ("赵静", "0319-52023456", "北岭市纪委监委驻市营商环境建设局纪检监察组"),
    "CH": ("陈刚", "0311-82213456", "长河县纪委监委派驻纪检监察组"),
    "DC": ("刘洋", "0311-86654321", "东城区纪委监委派驻纪检监察组"),
    "XS": ("孙丽", "0319-56123456", "西山县纪委监委派驻纪检监察组"),
}
# Each city's and county's office: a clerk, a dispatcher, a supervisor and a leader
# (ch_clerk, sm_supervisor …); the province's are the accounts of USERS.
OFFICE_ROLES = [
    ("clerk", "受理", Role.CLERK),
    ("dispatcher", "分办", Role.DISPATCHER),
    ("supervisor", "督办", Role.SUPERVISOR),
    ("leader", "领导", Role.LEADER),
]
# The department each office's staff work in (an office without one has none).
OFFICE_DEPARTMENTS = {"QY": "P00", "SM": "C10", "BL": "C20", "CH": "X101", "XS": "X201"}

# (category code or None, region or None, keywords, department code, priority)
RULES = [
    ("GOV01", "清源省/石门市/长河县", None, "X102", 0),
    ("GOV01", "清源省/石门市/东城区", None, "X111", 0),
    ("GOV", "清源省/北岭市/西山县", None, "X201", 0),
    ("ENF", "清源省/石门市/长河县", None, "X103", 0),
    ("ENF", "清源省/北岭市/西山县", None, "X203", 0),
    ("ENF02", "清源省/石门市/东城区", None, "X112", 0),
    ("POL", "清源省/石门市", None, "C10", 0),
    ("POL", "清源省/北岭市", None, "C20", 0),
    ("FEE", None, None, "C11", 0),
    ("FEE02", "清源省/北岭市", None, "C21", 0),
    ("INT", None, None, "P02", 0),
    (None, None, "土地,规划,不动产", "X202", 0),
    (None, "清源省/石门市", None, "C10", -1),
    (None, "清源省/北岭市", None, "C20", -1),
    # Each county office's catch-all: its own cases stay with its own departments.
    (None, "清源省/石门市/长河县", None, "X101", -1),
    (None, "清源省/石门市/东城区", None, "X111", -1),
    (None, "清源省/北岭市/西山县", None, "X201", -1),
    (None, None, None, "P00", -10),
]

# (username, first name, last name, role, department code)
USERS = [
    ("admin", "管理员", "系统", Role.ADMIN, None),
    ("clerk", "小受理", "张", Role.CLERK, "P00"),
    ("dispatcher", "小分办", "刘", Role.DISPATCHER, "P00"),
    ("handler", "经办", "陈", Role.HANDLER, "X102"),
    ("handler2", "经办", "褚", Role.HANDLER, "X103"),
    ("handler3", "经办", "赵", Role.HANDLER, "C10"),
    ("handler4", "经办", "沈", Role.HANDLER, "X201"),
    ("handler5", "经办", "钱", Role.HANDLER, "C11"),
    ("handler6", "经办", "王", Role.HANDLER, "P02"),
    ("handler7", "经办", "吴", Role.HANDLER, "C20"),
    ("handler8", "经办", "周", Role.HANDLER, "P00"),
    ("supervisor", "督办", "孙", Role.SUPERVISOR, "P00"),
    ("leader", "领导", "周", Role.LEADER, "P00"),
    ("hotline12345", "热线平台", "12345", Role.INTEGRATION, None),
    ("finance", "财务", "吴", Role.FINANCE, "P00"),
    ("supervisor2", "督办", "郑", Role.SUPERVISOR, "P00"),
    ("custodian", "保管", "冯", Role.CUSTODIAN, "P00"),
    ("inspector", "执法", "黄", Role.INSPECTOR, "X103"),  # an officer who registers inspections
    ("inspector2", "执法", "何", Role.INSPECTOR, "C11"),
]

STORIES = [
    (
        "GOV01",
        CaseType.COMPLAINT,
        "清源省/石门市/长河县",
        "食品经营许可证申请超期未办结",
        "我公司于上月提交食品经营许可证申请，承诺时限为5个工作日，至今已超过20天仍未办结，窗口人员称领导未签字。",
    ),
    (
        "GOV02",
        CaseType.COMPLAINT,
        "清源省/石门市/东城区",
        "企业变更登记在两个部门间来回推诿",
        "办理法定代表人变更时，审批局让我们去市场监管局，市场监管局又让回审批局，已跑了五趟。",
    ),
    (
        "ENF01",
        CaseType.COMPLAINT,
        "清源省/石门市/长河县",
        "一个月内被不同部门检查六次",
        "本月内先后有消防、市场监管、环保等部门上门检查共六次，内容重复，严重影响生产经营。",
    ),
    (
        "ENF02",
        CaseType.REPORT,
        "清源省/石门市/东城区",
        "城管执法人员随意罚款",
        "执法人员以门头招牌不规范为由当场罚款2000元，未出具任何文书。",
    ),
    (
        "POL01",
        CaseType.HELP,
        "清源省/石门市",
        "招商引资承诺的设备补贴迟迟不兑现",
        "2025年签约时承诺按设备投资额给予10%补贴，项目已投产一年，补贴仍未拨付。",
    ),
    (
        "POL03",
        CaseType.COMPLAINT,
        "清源省/北岭市",
        "政府工程款拖欠两年未付",
        "我公司承建的道路改造工程已于两年前验收合格，尚有工程款380万元未支付。",
    ),
    (
        "FEE01",
        CaseType.COMPLAINT,
        "清源省/石门市/长河县",
        "办理施工许可被要求缴纳无依据费用",
        "办理施工许可时被要求缴纳“配套服务费”，无任何收费文件依据。",
    ),
    (
        "FEE02",
        CaseType.REPORT,
        "清源省/北岭市/西山县",
        "指定中介机构高价收取评估费",
        "办理环评被要求必须找指定中介，收费远高于市场价格，且与审批人员存在利益关系。",
    ),
    (
        "INT01",
        CaseType.REPORT,
        "清源省/北岭市/西山县",
        "审批人员暗示送礼才能加快办理",
        "审批科工作人员多次暗示需要“意思意思”才能尽快审批，并拖延不办。",
    ),
    (
        "INT02",
        CaseType.COMPLAINT,
        "清源省/石门市",
        "咨询不动产登记问题无人答复",
        "多次拨打电话咨询不动产登记办理流程，各部门互相推诿，无人给出明确答复。",
    ),
    (
        None,
        CaseType.CONSULTATION,
        "清源省/石门市/长河县",
        "小微企业税费减免政策咨询",
        "想了解今年小微企业可以享受哪些税费减免政策，如何申请。",
    ),
    (
        None,
        CaseType.SUGGESTION,
        "清源省/北岭市",
        "建议企业开办实现全程网办",
        "建议将企业开办中的刻章、银行开户等环节全部纳入线上一次办理。",
    ),
]


def load_jurisdictions(session) -> dict[str, Jurisdiction]:
    """The province (the root the migration made, renamed), its cities and counties (idempotent)."""
    from app.services import jurisdictions as js

    found = {j.code: j for j in session.query(Jurisdiction)}
    root = js.root(session)
    for code, name, level, parent, region, office, prefix in JURISDICTIONS:
        if code in found:
            continue
        if parent is None:
            root.code, root.name, root.level, root.region = code, name, level, region
            root.office_name = root.issuing_authority = office
            root.doc_prefix = prefix
            found[code] = root
        else:
            found[code] = js.add(
                session,
                code=code,
                name=name,
                level=level,
                region=region,
                parent=found[parent],
                office_name=office,
                issuing_authority=office,
                doc_prefix=prefix,
            )
    for code, (contact, phone, copy_to) in OFFICE_CONTACTS.items():
        office = found.get(code)
        if office is not None and not (office.contact_name or office.contact_phone or office.notice_copy_to):
            office.contact_name, office.contact_phone, office.notice_copy_to = contact, phone, copy_to
    session.flush()
    return found


def load_org(session) -> dict[str, Department]:
    """Create the demo jurisdictions, department tree, dispatch rules and the users: one per
    role at the province, and an office at each city and county (idempotent)."""
    from app.services import jurisdictions as js

    places = load_jurisdictions(session)
    departments = {d.code: d for d in session.query(Department)}
    for code, name, level, parent, head, region in DEPARTMENTS:
        if code not in departments:
            departments[code] = Department(
                code=code,
                name=name,
                level=level,
                parent=departments.get(parent),
                head=head,
                region=region,
                jurisdiction=js.for_region(session, region),
            )
            session.add(departments[code])
    departments["P02"].discipline_inspection = True  # 纪检组: investigates A-grade reports
    session.flush()
    if not session.query(DispatchRule).count():
        categories = {c.code: c for c in session.query(Category)}
        for category, region, keywords, department, priority in RULES:
            session.add(
                DispatchRule(
                    category=categories.get(category),
                    region=region,
                    keywords=keywords,
                    department=departments[department],
                    priority=priority,
                )
            )
    if not session.query(ServiceWindow).count():
        for hall, name, code in [
            ("长河县政务服务中心", "3号综合窗口", "X102"),
            ("长河县政务服务中心", "7号市场主体登记窗口", "X103"),
            ("西山县政务服务中心", "不动产登记窗口", "X202"),
        ]:
            session.add(
                ServiceWindow(
                    hall=hall,
                    name=name,
                    department=departments[code],
                    region=departments[code].region,
                    token=new_window_token(),
                )
            )
    sm = _security_manager()
    for username, first, last, role, department in USERS:
        if sm.find_user(username=username) is None:
            user = sm.add_user(
                username,
                first,
                last,
                f"{username}@demo.yingshang110.cn",
                sm.find_role(role.value),
                hashed_password=_demo_password_hash(),
            )
            user.department_id = departments[department].id if department else None
            user.jurisdiction_id = (
                departments[department].jurisdiction_id
                if department and role in (Role.HANDLER, Role.INSPECTOR)
                else places["QY"].id
            )
    for code, place in places.items():
        if place.parent_id is None:
            continue
        for suffix, title, role in OFFICE_ROLES:
            username = f"{code.lower()}_{suffix}"
            if sm.find_user(username=username) is None:
                user = sm.add_user(
                    username,
                    title,
                    place.name,
                    f"{username}@demo.yingshang110.cn",
                    sm.find_role(role.value),
                    hashed_password=_demo_password_hash(),
                )
                office = OFFICE_DEPARTMENTS.get(code)
                user.department_id = departments[office].id if office else None
                user.jurisdiction_id = place.id
    session.flush()
    return departments


def demo_office_usernames() -> set[str]:
    """The demo accounts of the city and county offices (ch_clerk, sm_supervisor …)."""
    return {
        f"{code.lower()}_{suffix}"
        for code, _, _, parent, *_ in JURISDICTIONS
        if parent is not None
        for suffix, _, _ in OFFICE_ROLES
    }


def office_actors(session) -> dict[int, dict[str, Actor]]:
    """Each jurisdiction's office staff as actors: {jurisdiction id: {"clerk": …, "dispatcher": …,
    "supervisor": …, "leader": …}} (the province's are the plain demo accounts)."""
    offices: dict[int, dict[str, Actor]] = {}
    for place in session.query(Jurisdiction):
        prefix = "" if place.parent_id is None else f"{place.code.lower()}_"
        offices[place.id] = {
            suffix: actor_for(session, f"{prefix}{suffix}")
            for suffix, _, _ in OFFICE_ROLES
            if session.query(Staff.id).filter_by(username=f"{prefix}{suffix}").first()
        }
    return offices


def _demo_password_hash() -> str:
    """The published demo password (the policy refuses it anywhere a person sets a password):
    for demo mode and the tests only."""
    from flask import current_app
    from werkzeug.security import generate_password_hash

    if not (current_app.config.get("YS_DEMO") or current_app.config.get("TESTING")):
        raise RuntimeError(
            "demo accounts (with the published demo password) exist only in demo mode (YS_DEMO=1)"
        )
    return generate_password_hash(DEMO_PASSWORD)


def _security_manager():
    from flask import current_app

    return current_app.appbuilder.sm


def actor_for(session, username: str) -> Actor:
    return Actor.from_user(session.query(Staff).filter_by(username=username).one())


def _handler_for(session, department_id: int) -> Actor:
    user = (
        session.query(Staff)
        .filter_by(department_id=department_id)
        .filter(Staff.username.like("handler%"))
        .first()
    )
    if user is None:  # a department without a demo handler: a stand-in keeps the demo moving
        return Actor(None, "经办人", frozenset({Role.HANDLER}), department_id)
    return Actor.from_user(user)


# Target statuses and their weights: a few hundred cases spread over the whole flow.
TARGETS = [
    (Status.SUBMITTED, 6),
    (Status.DECLINED, 3),
    (Status.ACCEPTED, 5),
    (Status.DISPATCHED, 6),
    (Status.RETURNED, 2),
    (Status.HANDLING, 12),
    (Status.REPLIED, 6),
    (Status.UNSATISFIED, 2),
    (Status.EVALUATED, 4),
    (Status.CLOSED, 30),
]


FINDING_WEIGHTS = [
    (FindingResult.TRUE, 40),
    (FindingResult.PARTLY_TRUE, 25),
    (FindingResult.UNTRUE, 25),
    (FindingResult.UNVERIFIABLE, 10),
]
FINDING_SUMMARIES = {
    FindingResult.TRUE: "经核查，您反映的问题属实，已责令相关单位限期整改。",
    FindingResult.PARTLY_TRUE: "经核查，您反映的问题部分属实，已责令相关单位对属实部分限期整改。",
    FindingResult.UNTRUE: "经核查，未发现您反映的问题，详细情况将在答复中说明。",
    FindingResult.UNVERIFIABLE: "经核查，因线索不足暂无法核实，欢迎您补充材料。",
}
REPLIES = {
    FindingResult.TRUE: "经核查，反映问题属实，已责令相关科室立即整改并接受督办室复核，感谢监督。",
    FindingResult.PARTLY_TRUE: "经核查，反映问题部分属实，属实部分已责令整改，其余情况已向您说明。",
    FindingResult.UNTRUE: "经调阅办件记录并现场核实，未发现反映的问题，已向您电话说明核查过程。",
    FindingResult.UNVERIFIABLE: "因线索不足暂无法核实，已告知补充材料的途径，后续将继续跟踪。",
}


def _drive(
    session,
    case_id: int,
    target: Status,
    start: datetime,
    rng: random.Random,
    actors: dict[str, Actor],
    now: datetime,
) -> None:
    """Take a filed case through the real services until it reaches ``target``, through every
    step of the rulebook: verification (the office first for B grades), rectification and its
    re-check, clock pauses, co-handlers' parts, disputes, refused replies, revisit calls."""
    from app.services.sweep import add_revisit

    moment = start

    def step(action, actor, minutes=(10, 600), **params):
        nonlocal moment
        moment = min(moment + timedelta(minutes=rng.randint(*minutes)), now)
        svc.perform(session, case_id, action, actor=actor, now=moment, **params)

    case = session.get(svc.Case, case_id)
    supervisor = actors["supervisor"]
    if target == Status.SUBMITTED:
        return
    if target == Status.DECLINED:
        step(
            Action.DECLINE,
            actors["clerk"],
            reason="out_of_scope",
            note="该事项属于民事纠纷，建议通过司法途径解决。",
        )
        return
    step(Action.ACCEPT, actors["clerk"], minutes=(30, 900))
    results, weights = zip(*FINDING_WEIGHTS, strict=True)
    result = rng.choices(results, weights)[0] if case.case_type in svc.NEEDS_FINDING else None
    if case.grade == Grade.B and (target != Status.ACCEPTED or rng.random() < 0.5):
        # B grade: the supervisor's office verifies first, then dispatches (or answers itself).
        step(
            Action.RECORD_FINDING,
            supervisor,
            minutes=(60, 1500),
            result=result,
            facts="督办室先行核查：调取窗口办件记录，询问当班工作人员。",
            summary=FINDING_SUMMARIES[result],
        )
        if result in svc.UNFOUNDED and target in (Status.REPLIED, Status.EVALUATED, Status.CLOSED):
            step(Action.REPLY, supervisor, minutes=(60, 600), reply=REPLIES[result])
            _evaluate_and_close(step, case, target, rng, supervisor)
            return
    if target == Status.ACCEPTED:
        return
    while case.proposed_department_id is None and case.jurisdiction.parent_id is not None:
        # No department of this office's jurisdiction fits (an A-grade report needs discipline
        # inspection): 提级办理 to the office above, which takes the case on from here.
        step(Action.REFER_UP, actors["dispatcher"], note="本级无对口办理部门，提级办理。")
        actors = office_actors(session)[case.jurisdiction_id]
        supervisor = actors["supervisor"]
    lead = case.proposed_department_id
    co = []
    parent = case.proposed_department.parent if case.proposed_department else None
    if rng.random() < 0.15 and parent is not None and levels.department_in_scope(case, parent):
        co = [parent.id] if parent.id != lead else []
    step(
        Action.DISPATCH, actors["dispatcher"], minutes=(3, 40), lead_department_id=lead, co_department_ids=co
    )
    protection.assign_supervisor(  # the one supervisor who sees who filed it
        session, case_id, actor=actors["dispatcher"], now=moment, supervisor_id=actors["supervisor"].id
    )
    if target == Status.DISPATCHED:
        return
    handler = _handler_for(session, lead)
    if target == Status.RETURNED:
        step(Action.RETURN, handler, minutes=(10, 100), reason="该事项不属于本单位职责，请重新分办。")
        return
    step(Action.SIGN, handler, minutes=(5, 150))
    for co_id in co:
        step(Action.SIGN, _handler_for(session, co_id), minutes=(5, 150))
    step(Action.ADD_NOTE, handler, minutes=(60, 2000), note="已电话联系企业，核实情况，约定现场查看。")
    if rng.random() < 0.12:
        step(Action.PAUSE_CLOCK, handler, minutes=(30, 600), reason="等待企业补充营业执照及相关合同材料。")
        if target == Status.HANDLING and rng.random() < 0.5:
            return  # still waiting for the material
        if rng.random() < 0.5:  # the reporter sends it with the receipt: the clock restarts
            from app.services import reporting

            moment = min(moment + timedelta(minutes=rng.randint(600, 4000)), now)
            reporting.add_material(
                session,
                case,
                case.reporters[0],
                now=moment,
                text="已补充营业执照复印件及租赁合同。",
                files=[],
            )
        else:
            step(Action.RESUME_CLOCK, handler, minutes=(600, 4000), note="企业已补充材料。")
    if rng.random() < 0.06:
        step(
            Action.RAISE_DISPUTE,
            handler,
            minutes=(30, 300),
            reason="该事项涉及两个部门职责交叉，请督办室明确牵头单位。",
        )
        step(
            Action.DECIDE_DISPUTE,
            actors["dispatcher"],
            minutes=(30, 300),
            lead_department_id=lead,
            note="经研究，由原承办单位牵头办理。",
        )
    if rng.random() < 0.15:
        step(
            Action.REQUEST_EXTENSION, handler, minutes=(60, 600), days=5, reason="涉及多个科室会商，需延期。"
        )
        if target != Status.HANDLING or rng.random() < 0.5:
            step(Action.APPROVE_EXTENSION, supervisor, minutes=(60, 600))
    if result is not None and case.finding is None:
        step(
            Action.RECORD_FINDING,
            handler,
            minutes=(60, 1500),
            result=result,
            facts="调阅审批系统记录，询问经办人员并现场查看。",
            summary=FINDING_SUMMARIES[result],
        )
    if case.open_rectification is not None and (target != Status.HANDLING or rng.random() < 0.6):
        step(
            Action.PLAN_RECTIFICATION,
            handler,
            minutes=(60, 900),
            measures="对窗口工作人员进行批评教育，梳理办理流程并公开办理时限。",
            responsible="科室负责人",
            days=rng.randint(5, 15),
        )
    if target == Status.HANDLING:
        return
    for co_id in co:
        if rng.random() < 0.3:  # the co-handler finds the part is not theirs and returns it
            step(
                Action.RETURN_PART,
                _handler_for(session, co_id),
                minutes=(60, 900),
                reason="该部分事项不属于本单位职责。",
            )
            continue
        step(
            Action.REPLY_PART,
            _handler_for(session, co_id),
            minutes=(60, 900),
            part_answer="协办部分已办理完毕。",
        )
    reply = REPLIES.get(case.finding, "已就您的诉求进行办理，具体情况已电话告知，感谢您的支持。")
    step(Action.REPLY, handler, minutes=(600, 6000), reply=reply, note="办理材料存档。")
    refusals = 2 if rng.random() < 0.03 else 1 if rng.random() < 0.08 else 0
    for _ in range(refusals):  # refused twice: the department gets a 整改通知书 (004)
        step(
            Action.REJECT_REPLY,
            supervisor,
            minutes=(60, 600),
            reason="答复未说明核查过程和整改措施，退回重新答复。",
        )
        step(Action.REPLY, handler, minutes=(300, 3000), reply=reply + "核查过程：调阅记录、现场查看。")
    if case.open_rectification is not None and (target != Status.REPLIED or rng.random() < 0.5):
        step(
            Action.REPORT_RECTIFICATION,
            handler,
            minutes=(600, 4000),
            completion="已完成整改，流程已公开上墙。",
        )
        if rng.random() < 0.15:
            step(
                Action.REJECT_RECTIFICATION,
                supervisor,
                minutes=(60, 900),
                note="整改佐证材料不全，请补充。",
                days=3,
            )
            step(Action.REPORT_RECTIFICATION, handler, minutes=(600, 3000), completion="已补充整改佐证材料。")
        step(Action.ACCEPT_RECTIFICATION, supervisor, minutes=(60, 1500), note="经复核，整改到位。")
    if target == Status.REPLIED:
        if rng.random() < 0.5:
            add_revisit(session, case, reason="unrated", now=moment)
            step(Action.RECORD_REVISIT, actors["clerk"], minutes=(60, 600), outcome="not_reached")
        return
    if target in (Status.EVALUATED, Status.CLOSED) and rng.random() < 0.15:
        # Unsatisfied once, re-handled by the same department; some escalate after a second try.
        step(
            Action.EVALUATE,
            supervisor,
            minutes=(600, 3000),
            rating=Rating.UNSATISFIED,
            source="revisit_call",
            method="phone",
            reason="企业反映问题没有实际解决。",
        )
        step(Action.REHANDLE, supervisor, minutes=(60, 600), note="诉求合理，重新办理。")
        step(Action.SIGN, handler, minutes=(5, 100))
        step(Action.REPLY, handler, minutes=(600, 3000), reply="已再次核查并督促整改到位。")
        parent = case.lead_department.parent
        if rng.random() < 0.4 and parent is not None and levels.department_in_scope(case, parent):
            step(
                Action.EVALUATE,
                supervisor,
                minutes=(600, 3000),
                rating=Rating.UNSATISFIED,
                source="reporter",
                reason="仍未解决。",
            )
            step(Action.ESCALATE, supervisor, minutes=(60, 600), note="疑难复杂，提级办理。")
            higher = _handler_for(session, case.lead_department_id)
            step(Action.SIGN, higher, minutes=(5, 100))
            step(Action.REPLY, higher, minutes=(600, 3000), reply="上级部门已协调解决。")
    _evaluate_and_close(step, case, target, rng, supervisor)
    if case.status == Status.CLOSED and rng.random() < 0.2:
        # A quality sample: the revisit call confirms the rating (002).
        add_revisit(session, case, reason="sample", now=moment)
        step(
            Action.RECORD_REVISIT,
            actors["clerk"],
            minutes=(600, 3000),
            outcome="reached",
            rating=rng.choice([Rating.SATISFIED, Rating.BASICALLY_SATISFIED]),
            method="phone",
            notes="企业表示问题已解决。",
        )


def _evaluate_and_close(step, case, target: Status, rng: random.Random, supervisor: Actor) -> None:
    """Rate the reply (by the reporter or a revisit call) and close where the target says."""
    unsatisfied = target == Status.UNSATISFIED or rng.random() < 0.05
    rating = (
        Rating.UNSATISFIED
        if unsatisfied
        else rng.choice([Rating.SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED])
    )
    step(
        Action.EVALUATE,
        supervisor,
        minutes=(600, 3000),
        rating=rating,
        source=rng.choice(["reporter", "revisit_call"]),
        method=rng.choice(["phone", "sms"]),
        reason="问题没有实际解决。" if unsatisfied else None,
    )
    if target == Status.UNSATISFIED or case.open_rectification is not None:
        return
    if unsatisfied:
        step(Action.CLOSE, supervisor, note="经核实，诉求超出政策范围，已向企业解释。")
        return
    if target == Status.CLOSED:
        step(Action.CLOSE, supervisor, minutes=(60, 1000))


def load_demo(session, *, cases: int = 300, seed: int = 110, now: datetime | None = None):
    """Load the demo organisation and ``cases`` cases (skipped if cases exist); yield log lines."""
    load_org(session)
    now = now or clock.utcnow()
    if session.query(svc.Case).count():
        yield "demo cases already loaded"
        return
    rng = random.Random(seed)
    categories = {c.code: c.id for c in session.query(Category)}
    departments = {d.code: d.id for d in session.query(Department)}
    offices = office_actors(session)
    statuses, weights = zip(*TARGETS, strict=True)
    for index in range(cases):
        category, case_type, region, title, content = rng.choice(STORIES)
        # Every status appears at least twice; the rest follow the weights.
        target = (
            statuses[index % len(statuses)]
            if index < 2 * len(statuses)
            else rng.choices(statuses, weights)[0]
        )
        # Open cases are recent; finished ones are spread over the last few months.
        age_days = (
            rng.uniform(0, 20) if target not in (Status.CLOSED, Status.DECLINED) else rng.uniform(10, 150)
        )
        start = now - timedelta(days=age_days)
        data = {
            "case_type": case_type,
            "channel": rng.choice([Channel.PHONE_12345, Channel.PHONE_12345, Channel.WINDOW, Channel.LETTER]),
            "urgency": rng.choice([Urgency.NORMAL] * 6 + [Urgency.THREE_DAY, Urgency.IMMEDIATE]),
            "grade": rng.choice([Grade.A, Grade.B, Grade.C]) if case_type == CaseType.REPORT else None,
            "category_id": categories.get(category) or categories["GOV02"],
            "title": title,
            "content": content,
            "region": region,
            "location": "政务服务中心二楼综合窗口" if rng.random() < 0.3 else None,
            "anonymous": rng.random() < 0.3,
            "reporter_name": f"企业联系人{index:03d}",
            "reporter_phone": f"1390000{index:04d}",
            "reporter_company": f"示范科技有限公司{index:03d}",
        }
        if case_type == CaseType.REPORT and category == "INT01":
            data["concerned_department_id"] = departments["X202"]
            data["concerned_official"] = "审批科某工作人员"
        try:
            case = svc.create_case(
                session,
                actor=offices[svc.jurisdictions.for_region(session, region).id]["clerk"],
                now=start,
                data=data,
            )
            _drive(session, case.id, target, start, rng, offices[case.jurisdiction_id], now)
        except DomainError as error:  # a demo path the rules refuse: keep the case where it is
            yield f"case {index}: stopped early ({error.msgid})"
        if index % 50 == 49:
            session.flush()
    yield from _demo_levels(session, now, offices)
    yield from _demo_rewards(session, now)
    yield from _demo_inspections(session, now, rng)
    yield from _demo_warnings(session, now)
    yield f"loaded {cases} demo cases"


# Cases that crossed the levels of government (issue 15): (region, category, title, what
# happened, the moves). A move is (action, the office's code, its role, its parameters).
LEVEL_STORIES = [
    (
        "清源省/石门市/长河县",
        "GOV01",
        "工业园区项目施工许可涉及市县两级审批长期卡住",
        "项目施工许可需要县审批局和市住建局分别出具意见，两边互相等待，已拖延两个月。",
        [
            ("dispatch", "CH", "dispatcher", {"lead": "X102"}),
            ("sign", "X102", "handler", {}),
            ("refer_up", "CH", "supervisor", {"note": "涉及市住建局审批权限，县级难以协调，提级办理。"}),
            ("dispatch", "SM", "dispatcher", {"lead": "C12"}),
        ],
    ),
    (
        "清源省/石门市",
        "POL01",
        "市级招商引资奖励涉及省级配套资金未到位",
        "市里承诺的设备补贴需要省级配套资金，市发改部门称省里资金未下达，企业无法申领。",
        [("refer_up", "SM", "supervisor", {"note": "涉及省级专项资金拨付，提请省级协调办理。"})],
    ),
    (
        "清源省/北岭市/西山县",
        "GOV",
        "跨县域企业迁移登记无人受理",
        "企业从西山县迁往外市，迁出地与迁入地都称不归本级办理，已逾一个月。",
        [
            ("refer_up", "XS", "dispatcher", {"note": "涉及跨市迁移，县级无法办理。"}),
            ("refer_up", "BL", "supervisor", {"note": "涉及跨市协调，提请省级办理。"}),
            ("dispatch", "QY", "dispatcher", {"lead": "P01"}),
        ],
    ),
    (
        "清源省/石门市/东城区",
        "GOV02",
        "企业变更登记在区直部门间反复推诿",
        "法定代表人变更登记，区审批局与区市场监管部门互相推诿，企业已多次往返。",
        [
            ("dispatch", "DC", "dispatcher", {"lead": "X111"}),
            ("pull_up", "SM", "supervisor", {"note": "反复推诿，市级上收直接督办。"}),
            ("dispatch", "SM", "dispatcher", {"lead": "X111"}),
        ],
    ),
    (
        "清源省",
        "ENF01",
        "省级专项检查中发现的石门市重复检查问题",
        "企业反映石门市多个部门在同一周内重复上门检查，影响正常经营。",
        [
            ("send_down", "QY", "supervisor", {"to": "SM", "working_days": 10, "note": "交石门市属地办理。"}),
            ("dispatch", "SM", "dispatcher", {"lead": "C11"}),
        ],
    ),
    (
        "清源省/石门市/长河县",
        "FEE01",
        "县级部门要求缴纳无依据的技术服务费",
        "办理施工许可时被要求缴纳技术服务费，未出示收费依据，县里答复需请示市里。",
        [("pull_up", "QY", "dispatcher", {"note": "省级直接受理督办。"})],
    ),
]


def _demo_levels(session, now: datetime, offices: dict[int, dict[str, Actor]]):
    """A handful of cases that crossed the levels, through the services: referred up from a
    county to its city and from a city to the province (提级办理), taken over by an upper office
    (上收), and sent down by the province to a city with a deadline (交办)."""
    places = {j.code: j for j in session.query(Jurisdiction)}
    categories = {c.code: c.id for c in session.query(Category)}
    departments = {d.code: d.id for d in session.query(Department)}
    for index, (region, category, title, content, moves) in enumerate(LEVEL_STORIES):
        moment = now - timedelta(days=6 - index % 3, hours=index)
        place = svc.jurisdictions.for_region(session, region)

        def office(code: str, role: str) -> Actor:
            return offices[places[code].id][role]

        try:
            case = svc.create_case(
                session,
                actor=offices[place.id]["clerk"],
                now=moment,
                data={
                    "case_type": CaseType.COMPLAINT,
                    "channel": Channel.PHONE_12345,
                    "urgency": Urgency.NORMAL,
                    "category_id": categories.get(category) or categories["GOV02"],
                    "title": title,
                    "content": content,
                    "region": region,
                    "reporter_name": f"跨级企业联系人{index:02d}",
                    "reporter_phone": f"1370000{index:04d}",
                    "reporter_company": f"跨级示范有限公司{index:02d}",
                },
            )
            pulled_before_acceptance = moves[0][0] == "pull_up"
            if not pulled_before_acceptance:
                moment += timedelta(hours=2)
                svc.perform(session, case.id, Action.ACCEPT, actor=offices[place.id]["clerk"], now=moment)
            for action, code, role, params in moves:
                moment += timedelta(hours=3)
                if action == "dispatch":
                    actor, params = office(code, role), {"lead_department_id": departments[params["lead"]]}
                elif action == "sign":
                    actor, params = _handler_for(session, departments[code]), {}
                elif action == "send_down":
                    actor = office(code, role)
                    params = {
                        "jurisdiction_id": places[params["to"]].id,
                        "working_days": params["working_days"],
                        "note": params["note"],
                    }
                else:
                    actor = office(code, role)
                svc.perform(session, case.id, Action(action), actor=actor, now=moment, **params)
        except DomainError as error:  # a demo path the rules refuse: keep the case where it is
            yield f"cross-level case {index}: stopped early ({error.msgid})"
    session.flush()
    yield f"loaded {len(LEVEL_STORIES)} cases that crossed the levels of government"


def _demo_rewards(session, now: datetime):
    """A few rewards at every stage, through the reward services."""
    from app.services import rewards as rw
    from models import RewardTier

    tier = session.query(RewardTier).filter_by(code="tier2").one()
    reports = (
        session.query(svc.Case)
        .filter(
            svc.Case.case_type == CaseType.REPORT,
            svc.Case.status == Status.CLOSED,
            svc.Case.finding.in_([str(f) for f in FOUNDED]),  # rewards only on truth (000)
        )
        .order_by(svc.Case.id)
        .limit(5)
        .all()
    )
    supervisor, leader, finance = (actor_for(session, u) for u in ("supervisor", "leader", "finance"))
    for index, case in enumerate(reports):
        try:
            moment = max(case.closed_at, now - timedelta(days=20)) + timedelta(hours=1)
            reward = rw.propose_reward(
                session,
                case.id,
                actor=supervisor,
                now=moment,
                reporter_id=case.reporters[0].id,
                tier_id=tier.id,
                amount=200 + 50 * index,
                reasons="线索详实，经查属实并已整改。",
            )
            if index >= 1:
                rw.approve_reward(session, reward.id, actor=leader, now=moment + timedelta(hours=2))
            if index >= 2:
                rw.claim_reward(
                    session,
                    reward,
                    case.reporters[0],
                    now=moment + timedelta(days=1),
                    method="mobile",
                    phone="13800000000",
                )
            if index >= 3:
                rw.pay_reward(
                    session,
                    reward.id,
                    actor=finance,
                    now=moment + timedelta(days=2),
                    method="mobile",
                    reference=f"CZ2026{index:04d}",
                )
        except DomainError as error:
            yield f"reward {index}: {error.msgid}"


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 (no I, O, S, V, Z)


def credit_code(first17: str) -> str:
    """A unified social credit code: ``first17`` and its check character (GB 32100-2015)."""
    total = sum(CREDIT_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return first17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


# (name, region, industry, on the 无事不扰 list)
ENTERPRISES = [
    ("长河县恒信机械制造有限公司", "清源省/石门市/长河县", "制造业", False),
    ("长河县绿源食品有限公司", "清源省/石门市/长河县", "食品加工", True),
    ("石门市东城区悦来餐饮管理有限公司", "清源省/石门市/东城区", "餐饮", False),
    ("石门市华辰建材贸易有限公司", "清源省/石门市", "批发零售", False),
    ("石门市智联软件科技有限公司", "清源省/石门市", "软件和信息技术服务", True),
    ("长河县安泰物流有限公司", "清源省/石门市/长河县", "交通运输", False),
    ("东城区百草堂大药房有限公司", "清源省/石门市/东城区", "医药零售", False),
]
# (name, certificate number, unit, the staff account that registers for it)
OFFICERS = [
    ("黄志远", "13010300101", "X103", "inspector"),
    ("林晓", "13010300102", "X103", None),
    ("何建国", "13011000201", "C11", "inspector2"),
    ("马丽", "13011000202", "C11", None),
    ("蒋涛", "13010200301", "X112", None),
    ("宋佳", "13010200302", "X112", None),
]


def _demo_inspections(session, now: datetime, rng: random.Random):
    """A few enterprises (two on the 无事不扰 list), officers of three units with two inspector
    accounts, the inspection bases and items, and about forty inspections over the last sixty
    days: one enterprise inspected five times by three units (多头检查, 重复检查), one officer
    back at the same enterprise, some confirmed by the enterprise, some not."""
    import secrets

    from app.clock import local_date
    from app.inspections import BasisKind, InspectionResult, InspectionState
    from app.services import jurisdictions as js
    from models import EnforcementOfficer, Enterprise, Inspection, InspectionItem

    if session.query(Enterprise.id).first() is not None:
        return
    enterprises = []
    for index, (name, region, industry, no_disturb) in enumerate(ENTERPRISES, start=1):
        enterprises.append(
            Enterprise(
                name=name,
                credit_code=credit_code(f"91130102MA{index:06d}X"),
                region=region,
                industry=industry,
                jurisdiction_id=js.for_region(session, region).id,
                contact_name="办公室",
                token=secrets.token_urlsafe(16)[:22],
                confirm_token=secrets.token_urlsafe(16)[:22],
                no_disturb=no_disturb,
                created_at=now - timedelta(days=90),
            )
        )
    session.add_all(enterprises)
    departments = {d.code: d for d in session.query(Department)}
    users = {u.username: u.id for u in session.query(Staff).filter(Staff.username.like("inspector%"))}
    officers: dict[str, list[EnforcementOfficer]] = {}
    for name, number, unit, username in OFFICERS:
        officer = EnforcementOfficer(
            name=name, certificate_no=number, department_id=departments[unit].id, user_id=users.get(username)
        )
        session.add(officer)
        officers.setdefault(unit, []).append(officer)
    try:
        from app.services.enterprises import seed_inspection_items

        seed_inspection_items(session)
    except ImportError:
        pass
    if session.query(InspectionItem.id).first() is None:
        for order, (kind, code, name) in enumerate(
            [
                (BasisKind.BASIS, "B01", "双随机抽查任务"),
                (BasisKind.BASIS, "B02", "投诉举报核查"),
                (BasisKind.BASIS, "B03", "专项检查"),
                (BasisKind.ITEM, "I01", "消防安全"),
                (BasisKind.ITEM, "I02", "食品安全"),
                (BasisKind.ITEM, "I03", "安全生产"),
            ],
            start=1,
        ):
            session.add(InspectionItem(kind=kind, code=code, name=name, sort_order=order, active=True))
    session.flush()
    bases = session.query(InspectionItem).filter_by(kind=BasisKind.BASIS, active=True).all()
    items = session.query(InspectionItem).filter_by(kind=BasisKind.ITEM, active=True).all()

    # (enterprise index, unit, days ago, the unit's officers by index) — the repeated ones first:
    # enterprise 0 five times in three weeks by three units, officer 黄志远 three times.
    plan = [
        (0, "X103", 20, (0, 1)),
        (0, "C11", 16, (0, 1)),
        (0, "X103", 12, (0, 1)),
        (0, "X112", 8, (0, 1)),
        (0, "X103", 4, (0, 1)),
    ]
    units = list(officers)
    while len(plan) < 40:
        plan.append((rng.randrange(1, len(enterprises)), rng.choice(units), rng.uniform(0.2, 60), (0, 1)))
    results = [InspectionResult.NO_PROBLEM] * 5 + [InspectionResult.ADVISED] * 2 + [InspectionResult.RECTIFY]
    for index, (which, unit, days_ago, team) in enumerate(plan):
        enterprise = enterprises[which]
        started = now - timedelta(days=days_ago, hours=rng.uniform(0, 6))
        crew = [officers[unit][i] for i in team]
        joint = index % 6 == 5
        inspection = Inspection(
            number=f"JCDEMO{index:06d}",
            enterprise_id=enterprise.id,
            department_id=departments[unit].id,
            jurisdiction_id=enterprise.jurisdiction_id,
            registered_by_id=crew[0].user_id,
            basis=rng.choice(bases),
            basis_note="双随机抽查任务 2026-季度" if index % 3 == 0 else None,
            joint=joint,
            started_at=started,
            no_disturb_reason="接群众投诉举报，需现场核查。" if enterprise.no_disturb else None,
            created_at=started,
            officers=crew,
            items=rng.sample(items, k=min(2, len(items))),
        )
        if joint:
            inspection.partner_units = [departments[u] for u in units if u != unit][:1]
        if days_ago < 0.5:  # still inside the enterprise
            inspection.state = InspectionState.IN_PROGRESS
        else:
            inspection.state = InspectionState.FINISHED
            inspection.ended_at = started + timedelta(hours=rng.uniform(0.5, 3))
            inspection.result = rng.choice(results)
            # the older ones confirmed by the enterprise, about one in three left unconfirmed
            if days_ago > 4 and rng.random() < 0.65:
                inspection.state = InspectionState.CONFIRMED
                inspection.confirmed_at = inspection.ended_at + timedelta(hours=rng.uniform(2, 48))
                inspection.rating = rng.choice([Rating.SATISFIED] * 4 + [Rating.BASICALLY_SATISFIED])
        session.add(inspection)
        session.flush()
        inspection.number = f"JC{local_date(started):%Y%m%d}{inspection.id:06d}"
    session.flush()
    yield f"loaded {len(enterprises)} enterprises and {len(plan)} inspections"


def _demo_warnings(session, now: datetime):
    """The built-in warning models, run once over the demo data (when the engine is there)."""
    try:
        from app.services.early_warnings import evaluate, seed_models
    except ImportError:
        return
    seed_models(session)
    raised = evaluate(session, now=now)
    yield f"raised {len(raised)} early warnings"
