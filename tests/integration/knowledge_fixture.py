# ruff: noqa: RUF001  # Chinese text is written with Chinese punctuation, one entry a line
"""A knowledge base of 50 entries a telecom fault desk could hold, and 20 queries with their answers.

The queries are what agents type: a word from inside an entry's sentence (光模块 in 更换光模块后恢复),
two words, or a report's summary as the customer said it. Each names the one entry that answers it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FixtureEntry:
    key: str
    title: str
    body: str
    category: str


ENTRIES = [
    FixtureEntry(
        "fiber-module",
        "光猫LOS红灯闪烁",
        "用户光猫LOS灯红灯闪烁，测量台测试光功率过低，更换光模块后恢复。",
        "network",
    ),
    FixtureEntry(
        "fiber-cut",
        "小区光缆被挖断",
        "市政施工挖断小区主干光缆，整片用户断网，熔接光缆后恢复，需登记为已知故障。",
        "network",
    ),
    FixtureEntry(
        "splitter", "分光器端口故障", "同一分光器下多户无法上网，更换分光器端口并重新跳纤后恢复。", "network"
    ),
    FixtureEntry(
        "pppoe-691",
        "宽带拨号错误691",
        "拨号提示错误691，多为账号密码错误或账号欠费停机，核对账号状态后重新鉴权。",
        "software",
    ),
    FixtureEntry(
        "pppoe-678",
        "宽带拨号错误678",
        "拨号提示错误678远程计算机无响应，检查网线连接和光猫注册状态，重启光猫后恢复。",
        "network",
    ),
    FixtureEntry(
        "iptv-no-signal",
        "机顶盒无信号",
        "电视显示无信号，检查机顶盒与电视的HDMI连线和信号源选择，重新插拔后恢复。",
        "software",
    ),
    FixtureEntry(
        "iptv-auth",
        "机顶盒认证失败",
        "机顶盒开机提示认证失败错误码1302，业务账号未绑定机顶盒MAC，后台重新绑定后恢复。",
        "software",
    ),
    FixtureEntry(
        "line-noise",
        "固话通话杂音大",
        "固定电话通话中有明显杂音，查修员检查入户线接头受潮氧化，重做接头后恢复。",
        "network",
    ),
    FixtureEntry(
        "crosstalk", "电话串线", "用户通话时听到他人讲话，配线架跳线错接造成串线，重新跳线后恢复。", "network"
    ),
    FixtureEntry(
        "no-dial-tone",
        "电话无拨号音",
        "摘机无拨号音，测量台测试外线断线，查修员更换入户皮线后恢复。",
        "network",
    ),
    FixtureEntry(
        "wifi-weak",
        "无线信号弱",
        "卧室无线信号弱网速慢，建议调整路由器位置或增加无线中继，更换信道后改善。",
        "software",
    ),
    FixtureEntry(
        "wifi-password",
        "忘记无线密码",
        "用户忘记无线密码无法连接，指导登录路由器管理页面重置密码。",
        "software",
    ),
    FixtureEntry(
        "dns",
        "能上微信打不开网页",
        "微信QQ可以用但网页打不开，DNS解析异常，修改DNS为运营商地址后恢复。",
        "software",
    ),
    FixtureEntry(
        "speed", "宽带网速慢", "测速远低于签约带宽，排查发现端口限速配置错误，调整端口速率后恢复。", "network"
    ),
    FixtureEntry(
        "packet-loss",
        "游戏延迟高丢包",
        "晚高峰游戏延迟高丢包严重，上联链路拥塞，扩容上联带宽后改善。",
        "network",
    ),
    FixtureEntry(
        "arrears",
        "欠费停机无法上网",
        "账号欠费停机导致无法上网，缴费后系统自动复机，约十分钟生效。",
        "software",
    ),
    FixtureEntry(
        "olt-board",
        "OLT板卡故障",
        "一个PON口下全部用户掉线，OLT业务板卡故障告警，更换板卡后恢复。",
        "machine-room",
    ),
    FixtureEntry(
        "room-aircon",
        "机房空调故障高温",
        "机房空调故障导致温度过高，交换机过热自动关机，修复空调并降温后重启设备。",
        "machine-room",
    ),
    FixtureEntry(
        "power-outage",
        "机房停电",
        "市电停电后蓄电池放电耗尽，接入设备宕机，启动油机供电后恢复。",
        "machine-room",
    ),
    FixtureEntry(
        "ups",
        "UPS电池老化",
        "UPS电池老化后备时间不足，停电时设备立即断电，更换电池组后恢复。",
        "machine-room",
    ),
    FixtureEntry(
        "switch-loop",
        "交换机环路广播风暴",
        "楼道交换机被用户私接形成环路，引发广播风暴全楼断网，拔除环路并开启环路检测。",
        "network",
    ),
    FixtureEntry(
        "switch-port",
        "交换机端口损坏",
        "楼道交换机单个端口指示灯不亮，端口硬件损坏，改接备用端口后恢复。",
        "network",
    ),
    FixtureEntry(
        "ip-conflict",
        "IP地址冲突",
        "企业用户提示IP地址冲突，两台设备配置了同一静态地址，重新分配地址后恢复。",
        "software",
    ),
    FixtureEntry(
        "vpn",
        "企业专线VPN中断",
        "企业专线VPN隧道频繁中断，对端防火墙会话超时设置过短，调整后稳定。",
        "network",
    ),
    FixtureEntry(
        "bgp", "专线路由震荡", "大客户专线BGP邻居反复断开，光路误码率高，清洁光纤连接器后恢复。", "network"
    ),
    FixtureEntry(
        "email",
        "企业邮箱收不到邮件",
        "企业邮箱收不到外部邮件，MX记录配置错误，修正域名解析后恢复。",
        "software",
    ),
    FixtureEntry(
        "cert",
        "网站证书过期",
        "门户网站提示证书过期，HTTPS证书未续期，重新签发证书并部署后恢复。",
        "software",
    ),
    FixtureEntry(
        "disk-full", "服务器磁盘满", "业务服务器磁盘空间满导致服务异常，清理日志并配置日志轮转。", "software"
    ),
    FixtureEntry(
        "db-lock",
        "数据库锁等待",
        "营业系统办理业务卡顿，数据库长事务锁等待，终止阻塞会话后恢复。",
        "software",
    ),
    FixtureEntry(
        "backup",
        "备份任务失败",
        "夜间自动备份任务失败，备份存储挂载点丢失，重新挂载并补做备份。",
        "automation",
    ),
    FixtureEntry(
        "monitor-false",
        "监控误告警",
        "监控平台频繁误报设备离线，采集探针超时阈值过低，调高阈值后消除。",
        "automation",
    ),
    FixtureEntry(
        "script-cron",
        "自动巡检脚本未执行",
        "自动巡检脚本未按计划执行，定时任务服务未启动，启动服务并设为开机自启。",
        "automation",
    ),
    FixtureEntry(
        "ansible",
        "批量配置下发失败",
        "批量下发配置时部分设备失败，设备SSH密钥变更，更新密钥后重新下发。",
        "automation",
    ),
    FixtureEntry(
        "ticket-sync",
        "工单同步延迟",
        "工单系统与综调系统同步延迟，消息队列积压，扩容消费者后恢复。",
        "automation",
    ),
    FixtureEntry(
        "phone-number",
        "故障号码局向不存在",
        "用户报的故障电话号码提示局向不存在，号码少输一位，核对号码后重新受理。",
        "software",
    ),
    FixtureEntry(
        "owner-mismatch", "机主资料不符", "报障人与机主资料不符，按规定请机主本人申告或提供授权。", "software"
    ),
    FixtureEntry(
        "repeat",
        "重复申告处理",
        "同一故障号码在修复前再次申告，按重复申告关联原工单，超过三次转经理热线。",
        "software",
    ),
    FixtureEntry(
        "construction",
        "受工程影响停机",
        "因线路割接工程影响，片区电话暂时中断，告知用户预计恢复时间。",
        "network",
    ),
    FixtureEntry(
        "lightning",
        "雷击损坏设备",
        "雷雨后用户光猫和电话机损坏，入户线未做防雷，更换设备并加装防雷器。",
        "network",
    ),
    FixtureEntry(
        "rodent", "老鼠咬断线缆", "地下室线缆被老鼠咬断，用户无法上网，更换线缆并加装护套。", "network"
    ),
    FixtureEntry(
        "ont-register",
        "光猫注册失败",
        "新装光猫PON灯闪烁注册失败，LOID录入错误，重新录入LOID后注册成功。",
        "network",
    ),
    FixtureEntry(
        "ont-reset",
        "光猫恢复出厂后无法上网",
        "用户自行复位光猫恢复出厂设置，拨号配置丢失，远程下发配置后恢复。",
        "software",
    ),
    FixtureEntry(
        "mobile-signal",
        "室内手机信号差",
        "高层住宅室内手机信号差，基站覆盖不足，建议安装室内分布系统。",
        "network",
    ),
    FixtureEntry(
        "sms", "收不到短信验证码", "用户收不到短信验证码，号码被加入拦截名单，解除拦截后恢复。", "software"
    ),
    FixtureEntry(
        "roaming", "出国漫游无法使用", "出国后手机无法上网，国际漫游功能未开通，开通漫游后恢复。", "software"
    ),
    FixtureEntry(
        "billing", "话费账单异常", "用户反映话费突然增高，核查为增值业务订购，退订并按规定退费。", "software"
    ),
    FixtureEntry(
        "voip",
        "语音网关注册失败",
        "企业IP电话全部无法呼出，语音网关注册失败，软交换地址变更后重新配置。",
        "network",
    ),
    FixtureEntry(
        "ipv6", "IPv6无法访问", "部分网站无法访问，IPv6地址未下发，在光猫开启IPv6后恢复。", "software"
    ),
    FixtureEntry(
        "dhcp",
        "获取不到IP地址",
        "电脑获取不到IP地址显示169开头，路由器DHCP服务关闭，开启后恢复。",
        "software",
    ),
    FixtureEntry(
        "optical-power",
        "光功率衰耗大",
        "用户侧收光功率衰耗大，皮线光缆弯折过度，重新布线后光功率正常。",
        "network",
    ),
]

QUERIES = [
    ("光模块", "fiber-module"),
    ("光猫红灯闪烁", "fiber-module"),
    ("错误691", "pppoe-691"),
    ("678", "pppoe-678"),
    ("分光器", "splitter"),
    ("杂音", "line-noise"),
    ("串线", "crosstalk"),
    ("机顶盒认证", "iptv-auth"),
    ("广播风暴", "switch-loop"),
    ("空调", "room-aircon"),
    ("蓄电池", "power-outage"),
    ("LOID", "ont-register"),
    ("证书过期", "cert"),
    ("锁等待", "db-lock"),
    ("家里电话拿起来没有声音，听不到拨号音", "no-dial-tone"),
    ("微信能用但是网页打不开", "dns"),
    ("晚上打游戏一直丢包，延迟很高", "packet-loss"),
    ("交换机温度过高自动关机", "room-aircon"),
    ("老鼠把地下室的线咬断了", "rodent"),
    ("电脑获取不到IP地址", "dhcp"),
    ("收不到验证码短信", "sms"),
    ("宽带欠费停机了", "arrears"),
]
