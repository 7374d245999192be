"""The service guide (办事指南) an applicant reads before applying: the materials, the
steps, whom to call; the time limits and fees come from the policy itself. Values only;
each utility configures its own (``[connection_policies.<city>.guide]``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceGuide:
    materials: tuple[str, ...] = (
        "身份证 ID card of the applicant",
        "房产证明 proof of the property (容缺: may follow within the due date)",
    )
    steps: tuple[str, ...] = (
        "提交申请（一表申请）Apply with the single form, online or at the counter",
        "现场勘查 Survey on site",
        "装表、验收通气 Meter installed, acceptance and gas-on",
    )
    contact: str = "请配置供气企业服务电话 configure the utility's service number"
