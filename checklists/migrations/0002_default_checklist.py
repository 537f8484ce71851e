"""Shipped default checklist: "one list, 6 aspects, 16 items" (一张清单：6 方面 16 事项), the time
limits of every stage, and the screening rules for matters that are not for whistling.

The aspects follow the Haining list (seeds 000, 001, 003): ecological protection, dog management,
market supervision, city appearance, planning and construction (illegal construction, illegal
decoration, damage to greening) and traffic order (parking hot spots). Time limits follow
docs/architecture.md, Clocks; administrators edit all of it in the admin afterwards.
"""

from django.db import migrations

# Stages and units are spelled out (not imported from checklists.models): migrations must not
# depend on the current code.
SCREENING = "screening"
VILLAGE_HANDLING = "village_handling"
REPORT_IN = "report_in"
HANDLING = "handling"
TOWN_CONSULTATION = "town_consultation"
CITY_CONSULTATION = "city_consultation"
VERIFICATION = "verification"

MINUTES = "natural_minutes"
HOURS = "natural_hours"
DAYS = "natural_days"
WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"

# Urgent items (a blocked fire passage, a dog attack): short natural-time limits. Urgent cases
# are dispatched within 10 minutes and departments report in within 30 (Pinggu practice).
URGENT_LIMITS = {
    SCREENING: (10, MINUTES),
    VILLAGE_HANDLING: (30, MINUTES),
    REPORT_IN: (30, MINUTES),
    HANDLING: (2, HOURS),
    TOWN_CONSULTATION: (1, DAYS),
    CITY_CONSULTATION: (2, DAYS),
    VERIFICATION: (2, HOURS),
}

# Ordinary items: working time; HANDLING is set per item below.
ORDINARY_LIMITS = {
    SCREENING: (30, MINUTES),
    VILLAGE_HANDLING: (1, WORKING_DAYS),
    REPORT_IN: (2, WORKING_HOURS),
    TOWN_CONSULTATION: (3, WORKING_DAYS),
    CITY_CONSULTATION: (5, WORKING_DAYS),
    VERIFICATION: (1, WORKING_DAYS),
}

COMPREHENSIVE = ["comprehensive"]
BOTH_TEAMS = ["comprehensive", "professional"]

ASPECTS = [
    {
        "code": "ECO",
        "order": 1,
        "name_zh": "生态环境保护",
        "name_en": "Ecological and environmental protection",
        "description_zh": "露天焚烧、违法排污、施工扬尘和噪声等破坏生态环境的行为。",
        "description_en": (
            "Open burning, illegal discharge of sewage, construction dust and noise and other "
            "harm to the environment."
        ),
        "items": [
            {
                "code": "ECO-01",
                "name_zh": "露天焚烧",
                "name_en": "Open burning",
                "description_zh": "露天焚烧秸秆、落叶、垃圾、塑料、橡胶等产生烟尘和有毒有害气体的物质。",
                "description_en": (
                    "Burning straw, leaves, garbage, plastics, rubber or other matter in the "
                    "open air, producing smoke and toxic fumes."
                ),
                "legal_basis_zh": "《中华人民共和国大气污染防治法》第七十七条、第八十二条、第一百一十九条",
                "legal_basis_en": (
                    "Air Pollution Prevention and Control Law of the People's Republic of China, "
                    "Articles 77, 82 and 119"
                ),
                "urgency": "ordinary",
                "handling": (4, WORKING_HOURS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["ecology_environment", "agriculture_rural"],
            },
            {
                "code": "ECO-02",
                "name_zh": "违法排放污水",
                "name_en": "Illegal sewage discharge",
                "description_zh": "私设暗管、偷排直排生产生活污水，污染河道、沟渠和地下水。",
                "description_en": (
                    "Hidden pipes or direct discharge of industrial or household sewage into "
                    "rivers, ditches or the ground."
                ),
                "legal_basis_zh": "《中华人民共和国水污染防治法》第三十九条；《城镇排水与污水处理条例》",
                "legal_basis_en": (
                    "Water Pollution Prevention and Control Law of the People's Republic of "
                    "China, Article 39; Regulations on Urban Drainage and Sewage Treatment"
                ),
                "urgency": "ordinary",
                "handling": (5, WORKING_DAYS),
                "team_kinds": BOTH_TEAMS,
                "department_kinds": ["ecology_environment", "water_resources"],
            },
            {
                "code": "ECO-03",
                "name_zh": "施工扬尘和噪声",
                "name_en": "Construction dust and noise",
                "description_zh": "工地未采取防尘措施、渣土车辆未密闭，或者在居民区夜间违规施工产生噪声。",
                "description_en": (
                    "Building sites without dust control, uncovered muck trucks, or noisy "
                    "construction at night near homes."
                ),
                "legal_basis_zh": "《中华人民共和国大气污染防治法》第六十九条；《中华人民共和国噪声污染防治法》",
                "legal_basis_en": (
                    "Air Pollution Prevention and Control Law of the People's Republic of China, "
                    "Article 69; Noise Pollution Prevention and Control Law of the People's "
                    "Republic of China"
                ),
                "urgency": "ordinary",
                "handling": (1, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["ecology_environment", "housing_construction"],
            },
        ],
    },
    {
        "code": "DOG",
        "order": 2,
        "name_zh": "犬只管理",
        "name_en": "Dog management",
        "description_zh": "未办证养犬、遛犬不牵绳、犬只伤人等文明养犬问题。",
        "description_en": "Unlicensed dogs, dogs walked off the leash and dog attacks.",
        "items": [
            {
                "code": "DOG-01",
                "name_zh": "遛犬不牵绳、未办证养犬",
                "name_en": "Unleashed or unlicensed dogs",
                "description_zh": "携犬出户未系犬绳、未佩戴犬牌，或者养犬未登记、未免疫。",
                "description_en": (
                    "Dogs taken out without a leash or tag, or kept without registration or "
                    "rabies vaccination."
                ),
                "legal_basis_zh": "《中华人民共和国动物防疫法》第三十条；当地养犬管理规定",
                "legal_basis_en": (
                    "Animal Epidemic Prevention Law of the People's Republic of China, "
                    "Article 30; local dog-keeping regulations"
                ),
                "urgency": "ordinary",
                "handling": (3, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["public_security", "agriculture_rural"],
            },
            {
                "code": "DOG-02",
                "name_zh": "犬只伤人",
                "name_en": "Dog attack",
                "description_zh": "犬只咬伤、追咬他人，或者烈性犬、流浪犬威胁群众安全。",
                "description_en": (
                    "A dog has bitten or chased someone, or a dangerous or stray dog threatens "
                    "people."
                ),
                "legal_basis_zh": (
                    "《中华人民共和国动物防疫法》第三十条；《中华人民共和国治安管理处罚法》；"
                    "《中华人民共和国民法典》第一千二百四十五条；当地养犬管理规定"
                ),
                "legal_basis_en": (
                    "Animal Epidemic Prevention Law of the People's Republic of China, "
                    "Article 30; Law of the People's Republic of China on Penalties for "
                    "Administration of Public Security; Civil Code of the People's Republic of "
                    "China, Article 1245; local dog-keeping regulations"
                ),
                "urgency": "urgent",
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["public_security", "health"],
            },
        ],
    },
    {
        "code": "MKT",
        "order": 3,
        "name_zh": "市场监管",
        "name_en": "Market supervision",
        "description_zh": "无证无照经营、流动食品摊点和假冒伪劣商品。",
        "description_en": "Unlicensed trading, street food stalls and fake or inferior goods.",
        "items": [
            {
                "code": "MKT-01",
                "name_zh": "无证无照经营、流动食品摊贩",
                "name_en": "Unlicensed street vending and food stalls",
                "description_zh": "无营业执照或食品经营许可的流动摊贩、食品摊点，卫生条件差。",
                "description_en": (
                    "Street vendors and food stalls trading without a business licence or food "
                    "permit, in poor hygiene."
                ),
                "legal_basis_zh": "《中华人民共和国食品安全法》第三十六条；《无证无照经营查处办法》",
                "legal_basis_en": (
                    "Food Safety Law of the People's Republic of China, Article 36; Measures "
                    "for Investigating and Punishing Unlicensed Business Operations"
                ),
                "urgency": "ordinary",
                "handling": (1, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["market_supervision"],
            },
            {
                "code": "MKT-02",
                "name_zh": "销售假冒伪劣商品",
                "name_en": "Fake or inferior goods",
                "description_zh": "以假充真、以次充好，销售过期、变质或者无标识的商品。",
                "description_en": (
                    "Counterfeit or substandard goods, or goods sold expired, spoiled or "
                    "without labels."
                ),
                "legal_basis_zh": "《中华人民共和国产品质量法》第三十九条；《中华人民共和国消费者权益保护法》",
                "legal_basis_en": (
                    "Product Quality Law of the People's Republic of China, Article 39; Law of "
                    "the People's Republic of China on the Protection of Consumer Rights and "
                    "Interests"
                ),
                "urgency": "ordinary",
                "handling": (7, WORKING_DAYS),
                "team_kinds": BOTH_TEAMS,
                "department_kinds": ["market_supervision", "public_security"],
            },
        ],
    },
    {
        "code": "SAN",
        "order": 4,
        "name_zh": "市容环境卫生",
        "name_en": "City appearance and sanitation",
        "description_zh": "垃圾暴露、道路保洁、乱扔垃圾和乱张贴等市容环境卫生问题。",
        "description_en": (
            "Exposed garbage, dirty roads, littering, fly-posting and other problems of city "
            "appearance."
        ),
        "items": [
            {
                "code": "SAN-01",
                "name_zh": "垃圾暴露",
                "name_en": "Exposed garbage",
                "description_zh": "生活垃圾、建筑垃圾露天堆放、满溢或者未及时清运。",
                "description_en": (
                    "Household or construction waste piled in the open, overflowing bins or "
                    "rubbish not collected."
                ),
                "legal_basis_zh": "《城市市容和环境卫生管理条例》；《中华人民共和国固体废物污染环境防治法》",
                "legal_basis_en": (
                    "Regulations on the Administration of City Appearance and Environmental "
                    "Sanitation; Law of the People's Republic of China on the Prevention and "
                    "Control of Environmental Pollution by Solid Wastes"
                ),
                "urgency": "ordinary",
                "handling": (4, WORKING_HOURS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["urban_management"],
            },
            {
                "code": "SAN-02",
                "name_zh": "道路未清扫、乱扔垃圾",
                "name_en": "Road not cleaned or littering",
                "description_zh": "道路、广场保洁不到位，或者乱扔果皮、纸屑、烟头等废弃物。",
                "description_en": (
                    "Roads and squares left dirty, or peel, paper, cigarette ends and other "
                    "waste thrown about."
                ),
                "legal_basis_zh": "《城市市容和环境卫生管理条例》第三十四条",
                "legal_basis_en": (
                    "Regulations on the Administration of City Appearance and Environmental "
                    "Sanitation, Article 34"
                ),
                "urgency": "ordinary",
                "handling": (2, WORKING_HOURS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["urban_management"],
            },
            {
                "code": "SAN-03",
                "name_zh": "乱张贴、乱涂写和违规户外广告",
                "name_en": "Fly-posting, graffiti and unauthorised outdoor advertising",
                "description_zh": "在建筑物、设施和树木上乱张贴、乱涂写，或者擅自设置户外广告、招牌。",
                "description_en": (
                    "Posters and graffiti on buildings, facilities and trees, or outdoor "
                    "advertisements and signboards put up without approval."
                ),
                "legal_basis_zh": "《城市市容和环境卫生管理条例》第十一条、第十七条",
                "legal_basis_en": (
                    "Regulations on the Administration of City Appearance and Environmental "
                    "Sanitation, Articles 11 and 17"
                ),
                "urgency": "ordinary",
                "handling": (1, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["urban_management"],
            },
        ],
    },
    {
        "code": "PLN",
        "order": 5,
        "name_zh": "规划建设",
        "name_en": "Planning and construction",
        "description_zh": "违法建设、违规装修和毁坏绿化（房屋装修监管“一件事”）。",
        "description_en": (
            "Illegal construction, illegal decoration and damage to greening (house decoration "
            "supervision as \"one thing\")."
        ),
        "items": [
            {
                "code": "PLN-01",
                "name_zh": "违法建设",
                "name_en": "Illegal construction",
                "description_zh": "未取得建设工程规划许可证或者未按许可内容进行建设，私搭乱建。",
                "description_en": (
                    "Building without a construction planning permit or against it, including "
                    "unauthorised sheds and extensions."
                ),
                "legal_basis_zh": "《中华人民共和国城乡规划法》第四十条、第六十四条、第六十五条",
                "legal_basis_en": (
                    "Urban and Rural Planning Law of the People's Republic of China, Articles "
                    "40, 64 and 65"
                ),
                "urgency": "ordinary",
                "handling": (15, WORKING_DAYS),
                "team_kinds": BOTH_TEAMS,
                "department_kinds": ["natural_resources", "housing_construction"],
            },
            {
                "code": "PLN-02",
                "name_zh": "违规装修",
                "name_en": "Illegal decoration",
                "description_zh": "装修中擅自拆改承重墙、变动建筑主体结构，或者违规封闭阳台、占用公共部位。",
                "description_en": (
                    "Renovation that removes load-bearing walls or alters the main structure, "
                    "or encloses balconies and occupies common parts without approval."
                ),
                "legal_basis_zh": "《住宅室内装饰装修管理办法》第五条；《建设工程质量管理条例》第十五条",
                "legal_basis_en": (
                    "Measures for the Administration of Interior Decoration of Residential "
                    "Buildings, Article 5; Regulations on the Quality Management of "
                    "Construction Projects, Article 15"
                ),
                "urgency": "ordinary",
                "handling": (7, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["housing_construction", "natural_resources", "fire_rescue"],
            },
            {
                "code": "PLN-03",
                "name_zh": "毁坏绿化",
                "name_en": "Damage to greening",
                "description_zh": "擅自砍伐、移植树木，毁绿种菜，侵占绿地或者损坏绿化设施。",
                "description_en": (
                    "Trees felled or moved without approval, green space dug up for vegetables "
                    "or occupied, greening facilities damaged."
                ),
                "legal_basis_zh": "《城市绿化条例》",
                "legal_basis_en": "Regulations on Urban Greening",
                "urgency": "ordinary",
                "handling": (5, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["urban_management", "natural_resources"],
            },
        ],
    },
    {
        "code": "TRF",
        "order": 6,
        "name_zh": "交通秩序",
        "name_en": "Traffic and public order",
        "description_zh": "乱停车、占道经营和堵塞消防通道。",
        "description_en": "Disorderly parking, occupation of roads and blocked fire passages.",
        "items": [
            {
                "code": "TRF-01",
                "name_zh": "乱停车",
                "name_en": "Disorderly parking",
                "description_zh": "机动车、非机动车在人行道、路口、学校和商业区周边等处乱停乱放。",
                "description_en": (
                    "Cars and bicycles parked on pavements, at crossings and around schools, "
                    "parks and shopping centres."
                ),
                "legal_basis_zh": "《中华人民共和国道路交通安全法》第五十六条、第九十三条",
                "legal_basis_en": (
                    "Road Traffic Safety Law of the People's Republic of China, Articles 56 "
                    "and 93"
                ),
                "urgency": "ordinary",
                "handling": (4, WORKING_HOURS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["public_security", "transport"],
            },
            {
                "code": "TRF-02",
                "name_zh": "占道经营、占用道路",
                "name_en": "Road occupation",
                "description_zh": "店外经营、摆摊设点，或者在道路和公共场地堆放物料、搭建设施。",
                "description_en": (
                    "Trading outside shops and street stalls, or materials and structures on "
                    "roads and public places."
                ),
                "legal_basis_zh": "《城市道路管理条例》第二十七条、第三十一条；《城市市容和环境卫生管理条例》第十四条",
                "legal_basis_en": (
                    "Regulations on the Administration of Urban Roads, Articles 27 and 31; "
                    "Regulations on the Administration of City Appearance and Environmental "
                    "Sanitation, Article 14"
                ),
                "urgency": "ordinary",
                "handling": (1, WORKING_DAYS),
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["urban_management", "transport"],
            },
            {
                "code": "TRF-03",
                "name_zh": "堵塞消防通道",
                "name_en": "Blocked fire passage",
                "description_zh": "占用、堵塞、封闭疏散通道、安全出口或者消防车通道。",
                "description_en": (
                    "Escape routes, emergency exits or fire engine access occupied, blocked or "
                    "closed."
                ),
                "legal_basis_zh": "《中华人民共和国消防法》第二十八条、第六十条",
                "legal_basis_en": "Fire Protection Law of the People's Republic of China, Articles 28 and 60",
                "urgency": "urgent",
                "team_kinds": COMPREHENSIVE,
                "department_kinds": ["fire_rescue", "public_security"],
            },
        ],
    },
]

# Matters that are not for whistling (Beijing's rule): screening refuses them and says where to go.
SCREENING_RULES = [
    {
        "code": "civil_dispute",
        "name_zh": "民事纠纷",
        "name_en": "Civil dispute",
        "keywords": [
            "邻里纠纷",
            "家庭纠纷",
            "继承",
            "遗产",
            "离婚",
            "婚姻",
            "赡养",
            "抚养费",
            "彩礼",
            "分家",
            "neighbour dispute",
            "neighbor dispute",
            "family dispute",
            "inheritance",
            "divorce",
            "marriage",
            "alimony",
            "child support",
        ],
        "reason_zh": "婚姻家庭、继承、邻里之间的民事纠纷不属于行政执法事项，不能吹哨。",
        "reason_en": (
            "Civil disputes over marriage, family, inheritance or between neighbours are not a "
            "matter for administrative law enforcement and cannot be whistled."
        ),
        "redirect_zh": "请向村（社区）人民调解委员会申请调解；调解不成的，可以向人民法院起诉。",
        "redirect_en": (
            "Ask the people's mediation committee (人民调解委员会) of your village or community "
            "to mediate; if mediation fails, you may sue at the people's court (人民法院)."
        ),
    },
    {
        "code": "economic_dispute",
        "name_zh": "经济纠纷",
        "name_en": "Economic dispute",
        "keywords": [
            "借款",
            "借钱",
            "欠款",
            "欠钱",
            "还钱",
            "不还钱",
            "投资",
            "理财",
            "货款",
            "合同纠纷",
            "债务",
            "loan",
            "debt",
            "owes me money",
            "repay",
            "not repaid",
            "investment",
            "contract dispute",
        ],
        "reason_zh": "借贷、投资、货款、合同等经济纠纷属于平等主体之间的民事权利义务，不能吹哨。",
        "reason_en": (
            "Economic disputes over loans, investments, payment for goods or contracts are "
            "rights and duties between equal parties and cannot be whistled."
        ),
        "redirect_zh": (
            "请向人民调解委员会申请调解，或者向人民法院起诉；涉嫌诈骗、非法集资的，请向公安机关报案。"
        ),
        "redirect_en": (
            "Ask the people's mediation committee (人民调解委员会) to mediate, or sue at the "
            "people's court (人民法院); report suspected fraud or illegal fund-raising to the "
            "police."
        ),
    },
    {
        "code": "labour_dispute",
        "name_zh": "劳动争议",
        "name_en": "Labour dispute",
        "keywords": [
            "拖欠工资",
            "欠薪",
            "讨薪",
            "工资没发",
            "劳动合同",
            "辞退",
            "工伤",
            "社保",
            "unpaid wages",
            "wage arrears",
            "salary not paid",
            "labour contract",
            "labor contract",
            "dismissal",
            "work injury",
        ],
        "reason_zh": "劳动报酬、劳动合同、工伤和社会保险等劳动争议有专门的处理渠道，不能吹哨。",
        "reason_en": (
            "Labour disputes over pay, labour contracts, work injuries or social insurance have "
            "their own channel and cannot be whistled."
        ),
        "redirect_zh": (
            "请向劳动人事争议仲裁委员会申请仲裁，或者向人力资源和社会保障部门的劳动保障监察机构投诉。"
        ),
        "redirect_en": (
            "Apply for arbitration at the labour and personnel dispute arbitration committee "
            "(劳动人事争议仲裁委员会), or complain to the labour inspection office of the human "
            "resources and social security bureau."
        ),
    },
]


def _limits(item: dict) -> dict:
    if item["urgency"] == "urgent":
        return dict(URGENT_LIMITS)
    return {**ORDINARY_LIMITS, HANDLING: item["handling"]}


def create_default_checklist(apps, schema_editor):
    Aspect = apps.get_model("checklists", "Aspect")
    Item = apps.get_model("checklists", "Item")
    TimeLimit = apps.get_model("checklists", "TimeLimit")
    ScreeningRule = apps.get_model("checklists", "ScreeningRule")
    DepartmentKind = apps.get_model("teams", "DepartmentKind")

    for aspect_data in ASPECTS:
        aspect, _ = Aspect.objects.update_or_create(
            code=aspect_data["code"],
            defaults={
                "order": aspect_data["order"],
                "name_zh": aspect_data["name_zh"],
                "name_en": aspect_data["name_en"],
                "description_zh": aspect_data["description_zh"],
                "description_en": aspect_data["description_en"],
            },
        )
        for order, data in enumerate(aspect_data["items"], start=1):
            item, _ = Item.objects.update_or_create(
                code=data["code"],
                defaults={
                    "aspect": aspect,
                    "order": order,
                    "name_zh": data["name_zh"],
                    "name_en": data["name_en"],
                    "description_zh": data["description_zh"],
                    "description_en": data["description_en"],
                    "legal_basis_zh": data["legal_basis_zh"],
                    "legal_basis_en": data["legal_basis_en"],
                    "urgency": data["urgency"],
                    "whistleable": True,
                    "active": True,
                    "default_team_kinds": list(data["team_kinds"]),
                },
            )
            item.default_department_kinds.set(
                DepartmentKind.objects.filter(code__in=data["department_kinds"])
            )
            for stage, (amount, unit) in _limits(data).items():
                TimeLimit.objects.update_or_create(
                    item=item, stage=stage, defaults={"amount": amount, "unit": unit}
                )

    for rule in SCREENING_RULES:
        ScreeningRule.objects.update_or_create(
            code=rule["code"],
            defaults={
                "name_zh": rule["name_zh"],
                "name_en": rule["name_en"],
                "keywords": "\n".join(rule["keywords"]),
                "reason_zh": rule["reason_zh"],
                "reason_en": rule["reason_en"],
                "redirect_zh": rule["redirect_zh"],
                "redirect_en": rule["redirect_en"],
                "active": True,
            },
        )


def delete_default_checklist(apps, schema_editor):
    Aspect = apps.get_model("checklists", "Aspect")
    Item = apps.get_model("checklists", "Item")
    ScreeningRule = apps.get_model("checklists", "ScreeningRule")

    item_codes = [item["code"] for aspect in ASPECTS for item in aspect["items"]]
    Item.objects.filter(code__in=item_codes).delete()  # time limits go with them (CASCADE)
    Aspect.objects.filter(code__in=[a["code"] for a in ASPECTS], items__isnull=True).delete()
    ScreeningRule.objects.filter(code__in=[r["code"] for r in SCREENING_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0001_initial"),
        # 0002_initial adds Item.default_department_kinds and TimeLimit.item, needed here.
        ("checklists", "0002_initial"),
        ("teams", "0002_department_kinds"),
    ]

    operations = [migrations.RunPython(create_default_checklist, delete_default_checklist)]
