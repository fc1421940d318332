"""The IVR call's vocabulary (seed 002, 一): what it says, what it hears, what its driver must do.

:mod:`workflows.ivr_flow` decides; this module names what passes between it and the workflow that
drives a call. **Prompts**: ``Say`` is one prompt with its parameters, :func:`render` gives its text
for speech synthesis. V1-V11 keep the seed's wording (V2, V3 and V6 in the fuller form of the
numbered steps; V4 has the seed's two sentences as variants). The prompts after V11 are not in the
seed's list but its steps ask for them: step 6 plays the repairman's message or the last test
result, step 7 asks whether to transfer to an agent, step 8 waits for the line test, step 10 plays
the test result, step 11 plays the recorded message back. **Events**: what the caller did or what a
lookup found. **Actions**: what the driver does next. **Effects**: writes done before the prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class Prompt(StrEnum):
    V1 = "V1"  # enter the fault number, then #
    V2 = "V2"  # read the number back: 1 confirm, 2 re-enter
    V3 = "V3"  # the number is wrong, enter it again
    V4 = "V4"  # already repaired / affected by engineering works (variant "repaired" or "outage")
    V5 = "V5"  # enter contact number and symptom, then #
    V6 = "V6"  # read contact and symptom back: 1 confirm, 2 re-enter
    V7 = "V7"  # 1 to leave a message for the repairman
    V8 = "V8"  # after the beep, leave a message, then #
    V9 = "V9"  # the report is accepted
    V10 = "V10"  # 1 confirm, 2 re-record, 3 exit
    V11 = "V11"  # 1 other service, 2 exit
    REPAIRMAN_MESSAGE = "REPAIRMAN_MESSAGE"  # step 6
    LAST_TEST_RESULT = "LAST_TEST_RESULT"  # step 6
    AGENT_OFFER = "AGENT_OFFER"  # step 7: 1 transfer to an agent, 2 end
    PLEASE_WAIT = "PLEASE_WAIT"  # step 8: the line test is busy, hold on
    TEST_RESULT = "TEST_RESULT"  # step 10 (variant NORMAL / ABNORMAL / UNAVAILABLE)
    MESSAGE_PLAYBACK = "MESSAGE_PLAYBACK"  # step 11: the recording itself, not synthesised


@dataclass(frozen=True)
class Say:
    """One prompt to play; ``params`` fill its placeholders (``variant`` picks one of its texts)."""

    prompt: Prompt
    params: dict[str, str] = field(default_factory=dict)


def say(prompt: Prompt, **params: str) -> Say:
    return Say(prompt, dict(params))


class PromptText(NamedTuple):
    zh: str
    en: str


# Keyed by (prompt, variant); "" is the only variant of most prompts.
CATALOGUE: dict[tuple[Prompt, str], PromptText] = {
    (Prompt.V1, ""): PromptText(
        "您好,请输入您的故障电话号码,并按#号确认。",
        "Hello, please enter the number of the faulty line, then press #.",
    ),
    (Prompt.V2, ""): PromptText(
        "您输入的电话号码为:{number},确认请按1,重新输入请按2。",
        "You entered {number}. Press 1 to confirm, 2 to enter it again.",
    ),
    (Prompt.V3, ""): PromptText(
        "对不起,您输入的电话号码有误,请重新输入。",
        "Sorry, the number you entered is wrong. Please enter it again.",
    ),
    (Prompt.V4, "repaired"): PromptText(
        "对不起,您的电话已经修复。",
        "Sorry for the trouble: your line has already been repaired.",
    ),
    (Prompt.V4, "outage"): PromptText(
        "对不起,您的电话因电信工程影响,暂时出现故障,我们会尽快予以恢复。故障原因:{cause},预计恢复时间:{eta}。",
        "Sorry, your line is affected by engineering works; we will restore it as soon as possible."
        " Cause: {cause}. Expected back: {eta}.",
    ),
    (Prompt.V5, ""): PromptText(
        "您好,请输入您的联系电话和故障现象,并按#号确认。",
        "Please enter your contact number and the symptom, then press #.",
    ),
    (Prompt.V6, ""): PromptText(
        "您的联系电话为:{contact},故障现象为:{symptom},确认请按1,重新输入请按2。",
        "Your contact number is {contact} and the symptom is {symptom}. Press 1 to confirm, 2 to re-enter.",
    ),
    (Prompt.V7, ""): PromptText(
        "如果您需要给查修员留言,请按1。",
        "To leave a message for the repairman, press 1.",
    ),
    (Prompt.V8, ""): PromptText(
        "听到“嘟”的一声后,请留言,留言完毕按#号键确认。",
        "After the beep, leave your message, then press #.",
    ),
    (Prompt.V9, ""): PromptText(
        "您的电话故障申告已被受理,我们会尽快予以解决。",
        "Your fault report is accepted; we will fix it as soon as possible.",
    ),
    (Prompt.V10, ""): PromptText(
        "确认请按1,重新录音请按2,退出请按3。",
        "Press 1 to confirm, 2 to record again, 3 to exit.",
    ),
    (Prompt.V11, ""): PromptText(
        "需要其它服务请按1;退出请按2。",
        "For other services press 1; to exit press 2.",
    ),
    (Prompt.REPAIRMAN_MESSAGE, ""): PromptText(
        "查修员给您的留言:{message}",
        "The repairman's message for you: {message}",
    ),
    (Prompt.LAST_TEST_RESULT, ""): PromptText(
        "您的电话上次测试结果为:{result}。",
        "The last test of your line found: {result}.",
    ),
    (Prompt.AGENT_OFFER, ""): PromptText(
        "需要转人工服务请按1,结束申告请按2。",
        "To speak to an agent press 1; to end the report press 2.",
    ),
    (Prompt.PLEASE_WAIT, ""): PromptText(
        "正在为您测试线路,请稍候。",
        "We are testing your line, please hold.",
    ),
    (Prompt.TEST_RESULT, "NORMAL"): PromptText(
        "经测试,您的线路正常。",
        "The test found your line in order.",
    ),
    (Prompt.TEST_RESULT, "ABNORMAL"): PromptText(
        "经测试,您的线路存在故障:{detail}。",
        "The test found a fault on your line: {detail}.",
    ),
    (Prompt.TEST_RESULT, "UNAVAILABLE"): PromptText(
        "暂时无法完成线路测试,我们会尽快为您测试。",
        "The line test could not run now; we will test your line soon.",
    ),
    (Prompt.MESSAGE_PLAYBACK, ""): PromptText("{message}", "{message}"),
}

_UNKNOWN_ETA = PromptText("待定", "not known yet")


def render(spoken: Say, lang: str = "zh") -> str:
    """The text of ``spoken`` in ``lang`` ("zh" or "en")."""
    text: str = getattr(CATALOGUE[(spoken.prompt, spoken.params.get("variant", ""))], lang)
    params = dict(spoken.params)
    if not params.get("eta"):
        params["eta"] = getattr(_UNKNOWN_ETA, lang)
    return text.format_map(params)


class LineTestResult(StrEnum):
    NORMAL = "NORMAL"
    ABNORMAL = "ABNORMAL"
    UNAVAILABLE = "UNAVAILABLE"  # the tester cannot run now


class OutageStatus(StrEnum):
    NONE = "NONE"
    ACTIVE = "ACTIVE"  # 受工程影响
    REPAIRED = "REPAIRED"  # 已修复


class EndReason(StrEnum):
    NUMBER_NOT_CAPTURED = "NUMBER_NOT_CAPTURED"  # → agent
    REPEAT_OVER_LIMIT = "REPEAT_OVER_LIMIT"  # → agent
    AGENT_REQUESTED = "AGENT_REQUESTED"  # → agent
    SYSTEM_FAILURE = "SYSTEM_FAILURE"  # → agent
    KNOWN_OUTAGE = "KNOWN_OUTAGE"  # → main menu
    OTHER_SERVICE = "OTHER_SERVICE"  # → main menu
    REPEAT_ACKNOWLEDGED = "REPEAT_ACKNOWLEDGED"
    NO_CONTACT = "NO_CONTACT"  # contact/symptom not given or not confirmed: nothing recorded
    DONE = "DONE"


class Collect(StrEnum):
    KEY = "KEY"  # one key of a menu
    ENTRY = "ENTRY"  # keys up to '#'
    RECORDING = "RECORDING"  # beep, record until '#'


# Events: what the caller did, or what a lookup found.
@dataclass(frozen=True)
class Input:
    """What the caller entered: a key, keys up to '#' (the '#' optional), or a recording reference."""

    text: str


@dataclass(frozen=True)
class NoInput:
    """Nothing within ``AwaitInput.timeout_seconds``."""


@dataclass(frozen=True)
class ExchangeChecked:
    known: bool


@dataclass(frozen=True)
class OutageChecked:
    status: OutageStatus = OutageStatus.NONE
    cause: str = ""
    eta: datetime | None = None  # in the caller's local time


@dataclass(frozen=True)
class RepeatChecked:
    ticket_id: str | None = None  # the open ticket of this fault number, if any
    repeat_count: int = 0  # repeats already recorded on it, not counting this call
    repairman_message: str = ""
    last_test_result: str = ""


@dataclass(frozen=True)
class LineTested:
    result: LineTestResult
    detail: str = ""


@dataclass(frozen=True)
class TicketCreated:
    ticket_id: str


@dataclass(frozen=True)
class LookupFailed:
    """The activity behind the pending lookup gave up."""

    detail: str = ""


Event = (
    Input
    | NoInput
    | ExchangeChecked
    | OutageChecked
    | RepeatChecked
    | LineTested
    | TicketCreated
    | LookupFailed
)


# Actions: what the driver does next. Effects: writes done before the prompts play.
@dataclass(frozen=True)
class AwaitInput:
    collect: Collect
    timeout_seconds: int


@dataclass(frozen=True)
class CheckExchange:
    number: str


@dataclass(frozen=True)
class CheckOutage:
    number: str


@dataclass(frozen=True)
class CheckRepeat:
    number: str


@dataclass(frozen=True)
class RunLineTest:
    number: str
    delay_seconds: int = 0  # wait this long first (the tester was busy)


@dataclass(frozen=True)
class CreateTicket:
    fault_number: str
    contact: str
    symptom: str
    line_test: LineTestResult
    test_detail: str = ""
    channel: str = "IVR"
    handling: str = "AUTOMATIC"


@dataclass(frozen=True)
class TransferToAgent:
    reason: EndReason
    number: str = ""  # the confirmed fault number, if any, for the agent's screen
    ticket_id: str = ""


@dataclass(frozen=True)
class Hangup:
    reason: EndReason
    to_main_menu: bool = False  # back to the 1000 menu rather than disconnect


@dataclass(frozen=True)
class RecordRepeat:
    ticket_id: str


@dataclass(frozen=True)
class LeaveMessage:
    ticket_id: str
    message: str


Action = (
    AwaitInput
    | CheckExchange
    | CheckOutage
    | CheckRepeat
    | RunLineTest
    | CreateTicket
    | TransferToAgent
    | Hangup
)
Effect = RecordRepeat | LeaveMessage
