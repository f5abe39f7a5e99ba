// Word lists written for this project; none is taken from another benchmark.
#include "eval/word_lists.h"

namespace lkv::eval {

const std::vector<std::string_view>& common_nouns() {
  static const std::vector<std::string_view> words = {
      "anchor",   "apple",    "arch",    "arrow",    "attic",   "axle",     "badge",   "bag",     "bakery",   "balcony",
      "ball",     "balloon",  "band",    "banner",   "barn",    "barrel",   "basket",  "bath",    "beach",    "beacon",
      "beam",     "bean",     "bear",    "beard",    "bed",     "bee",      "bell",    "belt",    "bench",    "berry",
      "bicycle",  "bird",     "blanket", "blossom",  "boat",    "bolt",     "bone",    "book",    "boot",     "bottle",
      "boulder",  "bowl",     "box",     "bracelet", "branch",  "bread",    "brick",   "bridge",  "brook",    "broom",
      "bucket",   "bud",      "bulb",    "bundle",   "butter",  "button",   "cabin",   "cable",   "cage",     "cake",
      "camel",    "camera",   "camp",    "candle",   "canoe",   "canvas",   "canyon",  "cap",     "captain",  "car",
      "card",     "carpet",   "carrot",  "cart",     "castle",  "cat",      "cave",    "cellar",  "chain",    "chair",
      "chalk",    "channel",  "chapel",  "cheese",   "cherry",  "chest",    "chimney", "circle",  "city",     "clay",
      "cliff",    "clock",    "cloud",   "coat",     "coin",    "comet",    "compass", "cone",    "cookie",   "copper",
      "coral",    "cord",     "corn",    "cottage",  "cotton",  "county",   "crab",    "cradle",  "crane",    "crater",
      "cricket",  "crown",    "cup",     "curtain",  "cushion", "dairy",    "daisy",   "dam",     "deer",     "desert",
      "desk",     "diamond",  "dish",    "dock",     "doll",    "dolphin",  "donkey",  "door",    "dragon",   "drawer",
      "dress",    "drum",     "duck",    "dune",     "eagle",   "engine",   "falcon",  "fan",     "farm",     "feather",
      "fence",    "fern",     "ferry",   "field",    "fig",     "flag",     "flame",   "flask",   "fleet",    "flower",
      "flute",    "fog",      "forest",  "fork",     "fossil",  "fountain", "fox",     "frame",   "frog",     "fruit",
      "furnace",  "garden",   "gate",    "gem",      "glacier", "glass",    "glove",   "goat",    "gold",     "goose",
      "grape",    "grass",    "gravel",  "guitar",   "gull",    "hammer",   "harbor",  "harp",    "hat",      "hawk",
      "hay",      "helmet",   "hill",    "hive",     "honey",   "hook",     "horn",    "horse",   "hotel",    "house",
      "island",   "ivory",    "jacket",  "jar",      "jewel",   "jungle",   "kettle",  "key",     "kite",     "kitchen",
      "knot",     "ladder",   "lake",    "lamp",     "lantern", "leaf",     "lemon",   "lens",    "letter",   "library",
      "lily",     "lion",     "lizard",  "lock",     "locket",  "log",      "loom",    "magnet",  "mango",    "map",
      "maple",    "marble",   "market",  "meadow",   "melon",   "mill",     "mirror",  "mitten",  "moon",     "moss",
      "moth",     "mountain", "mug",     "museum",   "nail",    "needle",   "nest",    "net",     "notebook", "nut",
      "oak",      "oar",      "ocean",   "office",   "olive",   "onion",    "orange",  "orchard", "otter",    "oven",
      "owl",      "paddle",   "palace",  "pan",      "panda",   "paper",    "parcel",  "parrot",  "path",     "peach",
      "pear",     "pearl",    "pebble",  "pen",      "pencil",  "pepper",   "piano",   "pier",    "pig",      "pillow",
      "pine",     "pipe",     "planet",  "plate",    "plum",    "pocket",   "pond",    "pony",    "porch",    "pot",
      "potato",   "puddle",   "pump",    "puppet",   "quarry",  "quill",    "quilt",   "rabbit",  "raft",     "rail",
      "rain",     "ribbon",   "rice",    "ring",     "river",   "road",     "robin",   "rock",    "roof",     "room",
      "root",     "rope",     "rose",    "saddle",   "sail",    "salmon",   "salt",    "sand",    "sandal",   "saucer",
      "scarf",    "school",   "scroll",  "seal",     "seed",    "shadow",   "shell",   "shelf",   "ship",     "shirt",
      "shoe",     "shovel",   "shrub",   "silver",   "sink",    "sled",     "sleeve",  "slope",   "snail",    "snow",
      "soap",     "sock",     "sofa",    "spoon",    "spring",  "square",   "stable",  "stage",   "stair",    "star",
      "statue",   "stem",     "stone",   "stool",    "storm",   "stove",    "straw",   "stream",  "street",   "sugar",
      "suitcase", "summit",   "sun",     "swan",     "sweater", "table",    "tail",    "tea",     "teapot",   "tent",
      "thread",   "throne",   "tiger",   "tile",     "timber",  "toast",    "tomato",  "tower",   "town",     "toy",
      "tractor",  "trail",    "train",   "tray",     "tree",    "trumpet",  "trunk",   "tulip",   "tunnel",   "turtle",
      "umbrella", "valley",   "vase",    "velvet",   "village", "violin",   "wagon",   "wall",    "walnut",   "wand",
      "wave",     "well",     "whale",   "wheat",    "wheel",   "whistle",  "willow",  "window",  "wing",     "wire",
      "wolf",     "wool",     "yard",    "yarn",     "zebra",
  };
  return words;
}

const std::vector<std::string_view>& common_adjectives() {
  static const std::vector<std::string_view> words = {
      "able",   "absent",   "active",   "afraid",  "agile",    "alert",    "amber",   "ancient",  "angry",    "anxious",
      "arctic", "ashen",    "awake",    "bald",    "bare",     "basic",    "bitter",  "blank",    "bleak",    "blind",
      "blond",  "bold",     "bored",    "bossy",   "brave",    "brief",    "bright",  "brisk",    "broad",    "broken",
      "bronze", "brown",    "bumpy",    "busy",    "calm",     "careful",  "casual",  "cheap",    "cheerful", "chilly",
      "civil",  "clean",    "clear",    "clever",  "cloudy",   "clumsy",   "coarse",  "cold",     "common",   "cool",
      "cosy",   "crisp",    "crooked",  "cruel",   "curious",  "curly",    "cute",    "damp",     "dark",     "deaf",
      "dear",   "deep",     "dense",    "dim",     "dirty",    "distant",  "dizzy",   "drowsy",   "dry",      "dull",
      "dusty",  "eager",    "early",    "easy",    "elegant",  "empty",    "endless", "equal",    "exact",    "faint",
      "fair",   "faithful", "false",    "famous",  "fancy",    "far",      "fast",    "fat",      "fearless", "fierce",
      "final",  "fine",     "firm",     "flat",    "fluffy",   "fond",     "foolish", "formal",   "fragile",  "frank",
      "free",   "fresh",    "friendly", "frosty",  "frozen",   "full",     "funny",   "fuzzy",    "gentle",   "giant",
      "glad",   "gloomy",   "glossy",   "golden",  "good",     "graceful", "grand",   "gray",     "greedy",   "green",
      "grim",   "gritty",   "grumpy",   "guilty",  "happy",    "hard",     "harsh",   "hasty",    "healthy",  "heavy",
      "hidden", "high",     "hollow",   "honest",  "hopeful",  "huge",     "humble",  "hungry",   "icy",      "idle",
      "jolly",  "juicy",    "keen",     "kind",    "large",    "late",     "lazy",    "lean",     "light",    "little",
      "lively", "lonely",   "long",     "loose",   "loud",     "lovely",   "loyal",   "lucky",    "mad",      "magic",
      "mellow", "merry",    "messy",    "mighty",  "mild",     "minor",    "misty",   "modern",   "modest",   "moist",
      "narrow", "nasty",    "neat",     "nervous", "new",      "nice",     "noble",   "noisy",    "normal",   "odd",
      "old",    "open",     "pale",     "patient", "peaceful", "perfect",  "plain",   "pleasant", "plump",    "polite",
      "poor",   "proud",    "pure",     "purple",  "quick",    "quiet",    "rapid",   "rare",     "raw",      "ready",
      "real",   "rich",     "rigid",    "ripe",    "rough",    "round",    "royal",   "rude",     "rusty",    "sad",
      "safe",   "salty",    "scarlet",  "secret",  "shaggy",   "shallow",  "sharp",   "shiny",    "short",    "shy",
      "silent", "silky",    "silly",    "simple",  "sleepy",   "slim",     "slow",    "small",    "smart",    "smooth",
      "snowy",  "soft",     "solid",    "sore",    "sour",     "spicy",    "spotted", "stale",    "steady",   "steep",
      "sticky", "stiff",    "still",    "stormy",  "strange",  "strict",   "strong",  "sturdy",   "sunny",    "super",
      "sweet",  "swift",    "tall",     "tame",    "tense",    "thick",    "thin",    "thirsty",  "tidy",     "tiny",
      "tired",  "tough",    "tricky",   "true",    "ugly",     "upper",    "urban",   "vague",    "vast",     "violet",
      "vivid",  "warm",     "weak",     "wealthy", "weary",    "wet",      "white",   "whole",    "wide",     "wild",
      "windy",  "wise",     "witty",    "wooden",  "worn",     "young",    "zany",
  };
  return words;
}

const std::vector<std::string_view>& common_verbs() {
  static const std::vector<std::string_view> words = {
      "accept",   "achieve",  "add",      "admire",   "admit",     "adopt",     "advise",   "agree",    "allow",
      "amuse",    "announce", "answer",   "appear",   "applaud",   "arrange",   "arrive",   "ask",      "attach",
      "attend",   "avoid",    "bake",     "balance",  "bathe",     "battle",    "beg",      "behave",   "belong",
      "bless",    "blink",    "boast",    "boil",     "borrow",    "bounce",    "bow",      "breathe",  "brush",
      "build",    "bump",     "burn",     "bury",     "calculate", "call",      "care",     "carry",    "carve",
      "catch",    "cause",    "change",   "charge",   "chase",     "cheer",     "chew",     "choke",    "chop",
      "claim",    "clap",     "climb",    "close",    "coach",     "collect",   "comb",     "command",  "compare",
      "compete",  "complain", "confess",  "connect",  "consider",  "contain",   "continue", "cough",    "count",
      "cover",    "crack",    "crawl",    "cross",    "crush",     "cry",       "cure",     "curl",     "cycle",
      "dance",    "dare",     "decide",   "deliver",  "depend",    "describe",  "deserve",  "destroy",  "develop",
      "dig",      "discover", "divide",   "doubt",    "drag",      "drain",     "dream",    "drift",    "drip",
      "drop",     "earn",     "educate",  "embrace",  "employ",    "enjoy",     "enter",    "escape",   "examine",
      "excite",   "excuse",   "exercise", "exist",    "expand",    "expect",    "explain",  "explode",  "explore",
      "fade",     "fail",     "fasten",   "fetch",    "file",      "fill",      "film",     "fire",     "fit",
      "fix",      "flap",     "flash",    "float",    "flood",     "flow",      "fold",     "follow",   "force",
      "form",     "found",    "fry",      "gather",   "gaze",      "glide",     "glow",     "grab",     "grate",
      "greet",    "grin",     "grip",     "groan",    "guard",     "guess",     "guide",    "hand",     "handle",
      "hang",     "happen",   "harm",     "hate",     "haunt",     "heal",      "heap",     "help",     "hop",
      "hope",     "hover",    "hug",      "hum",      "hunt",      "hurry",     "identify", "ignore",   "imagine",
      "improve",  "include",  "increase", "inform",   "inject",    "injure",    "inspect",  "instruct", "intend",
      "invent",   "invite",   "itch",     "jog",      "join",      "joke",      "judge",    "juggle",   "jump",
      "kick",     "kneel",    "knit",     "knock",    "label",     "land",      "last",     "laugh",    "launch",
      "learn",    "level",    "lick",     "lift",     "limp",      "list",      "listen",   "live",     "load",
      "locate",   "look",     "love",     "manage",   "march",     "mark",      "marry",    "match",    "measure",
      "melt",     "memorize", "mend",     "milk",     "mine",      "miss",      "mix",      "moan",     "move",
      "mourn",    "mumble",   "murmur",   "nod",      "note",      "notice",    "obey",     "observe",  "obtain",
      "occur",    "offer",    "order",    "organize", "own",       "pack",      "paint",    "park",     "pause",
      "peck",     "pedal",    "peel",     "perform",  "permit",    "phone",     "pick",     "pinch",    "plan",
      "plant",    "play",     "plead",    "please",   "plug",      "point",     "poke",     "polish",   "pour",
      "practice", "praise",   "pray",     "preach",   "prefer",    "prepare",   "present",  "preserve", "press",
      "pretend",  "print",    "produce",  "promise",  "protect",   "provide",   "pull",     "punch",    "punish",
      "push",     "question", "race",     "radiate",  "raise",     "reach",     "realize",  "receive",  "record",
      "reduce",   "reflect",  "refuse",   "regret",   "reign",     "reject",    "rejoice",  "relax",    "release",
      "rely",     "remain",   "remember", "remind",   "remove",    "repair",    "repeat",   "replace",  "reply",
      "report",   "rescue",   "retire",   "return",   "rinse",     "risk",      "roll",     "rub",      "ruin",
      "rule",     "rush",     "satisfy",  "save",     "saw",       "scare",     "scatter",  "scold",    "scrape",
      "scratch",  "scream",   "scrub",    "search",   "settle",    "shave",     "shelter",  "shiver",   "shock",
      "shop",     "shrug",    "sigh",     "sign",     "signal",    "sing",      "sip",      "skate",    "ski",
      "skip",     "slide",    "slip",     "smash",    "smell",     "smile",     "sneeze",   "sniff",    "snore",
      "soak",     "solve",    "sort",     "spark",    "spill",     "spray",     "sprout",   "squash",   "squeeze",
      "stamp",    "stare",    "start",    "steer",    "step",      "stir",      "stitch",   "stroll",   "stuff",
      "subtract", "succeed",  "suffer",   "suggest",  "supply",    "support",   "suppose",  "surprise", "surround",
      "suspect",  "swallow",  "sway",     "switch",   "talk",      "tap",       "taste",    "tease",    "telephone",
      "tempt",    "test",     "thank",    "thaw",     "tickle",    "tie",       "time",     "tip",      "tire",
      "toss",     "touch",    "tour",     "trace",    "trade",     "transport", "trap",     "travel",   "tremble",
      "trim",     "trip",     "trot",     "trust",    "try",       "tug",       "tumble",   "turn",     "twist",
      "type",     "undress",  "unfold",   "unite",    "unlock",    "unpack",    "untie",    "use",      "vanish",
      "visit",    "wail",     "wait",     "walk",     "wander",    "want",      "warn",     "wash",     "watch",
      "water",    "weigh",    "welcome",  "whirl",    "whisper",   "wink",      "wipe",     "wish",     "wobble",
      "wonder",   "worry",    "wrap",     "wreck",    "wrestle",   "wriggle",   "yawn",     "yell",     "zip",
      "zoom",
  };
  return words;
}

const std::vector<std::string_view>& first_names() {
  static const std::vector<std::string_view> names = {
      "Ada",    "Bruno", "Clara",  "Dmitri", "Elena", "Felix",  "Greta", "Hugo",  "Ines",   "Jonas",
      "Kira",   "Lars",  "Maya",   "Nils",   "Olga",  "Pablo",  "Quinn", "Rosa",  "Stefan", "Tara",
      "Ulrich", "Vera",  "Wanda",  "Xavier", "Yara",  "Zoltan", "Amara", "Basil", "Cora",   "Dario",
      "Edith",  "Fiona", "Gideon", "Hazel",  "Ivo",   "Jasper", "Katja", "Leon",  "Mirela", "Noah",
      "Odette", "Piotr", "Rhea",   "Silas",  "Thea",  "Umar",   "Viggo", "Wren",  "Yusuf",  "Zelda",
  };
  return names;
}

const std::vector<std::string_view>& surnames() {
  static const std::vector<std::string_view> names = {
      "Abernathy",  "Bellweather", "Castellano", "Dunmore",   "Eskildsen", "Fairbanks", "Gallagher",  "Halvorsen",
      "Ingersoll",  "Jablonski",   "Kowalczyk",  "Lindqvist", "Marchetti", "Nakashima", "Okonkwo",    "Pemberton",
      "Quintero",   "Rasmussen",   "Stavros",    "Thornbury", "Underhill", "Valdivia",  "Whitcombe",  "Yamamoto",
      "Zielinski",  "Ashworth",    "Brannigan",  "Cordero",   "Delacroix", "Ellingsen", "Fitzgerald", "Grimaldi",
      "Hollister",  "Iwasaki",     "Jovanovic",  "Kettering", "Lombardi",  "Montague",  "Novak",      "Oyelaran",
      "Pellegrino", "Radcliffe",   "Sorensen",   "Tremblay",  "Vasquez",   "Wakefield", "Yilmaz",     "Zamora",
      "Blackwood",  "Carrington",
  };
  return names;
}

const std::vector<FactAttribute>& fact_attributes() {
  static const std::vector<FactAttribute> attributes = {
      {"hometown",
       {"Lisbon",  "Tallinn", "Valparaiso", "Marrakesh", "Krakow",    "Adelaide",  "Winnipeg", "Bergen",  "Cusco",
        "Trieste", "Halifax", "Nagasaki",   "Zanzibar",  "Ljubljana", "Reykjavik", "Cordoba",  "Antwerp", "Tbilisi",
        "Hobart",  "Quebec",  "Gdansk",     "Porto",     "Dubrovnik", "Salzburg",  "Kyoto"}},
      {"favourite colour",
       {"ochre", "teal",       "crimson",   "lavender", "mustard",   "turquoise",  "maroon", "saffron",  "indigo",
        "coral", "olive",      "magenta",   "cobalt",   "vermilion", "chartreuse", "mauve",  "burgundy", "cerulean",
        "amber", "periwinkle", "tangerine", "emerald",  "charcoal",  "lilac",      "sienna"}},
      {"profession",
       {"glassblower",       "cartographer",  "beekeeper",    "locksmith",  "stonemason", "bookbinder", "clockmaker",
        "lighthouse keeper", "sail maker",    "violin maker", "tea taster", "botanist",   "blacksmith", "puppeteer",
        "saddler",           "chimney sweep", "typesetter",   "falconer",   "cooper",     "weaver",     "perfumer",
        "surveyor",          "ferryman",      "goldsmith",    "tailor"}},
      {"pet",
       {"a tortoise named Pip",     "a parrot named Koko",     "a ferret named Moss",    "a goldfish named Blink",
        "a hedgehog named Thistle", "a greyhound named Comet", "a rabbit named Juniper", "a cat named Biscuit",
        "a canary named Sunny",     "a lizard named Rex",      "a pony named Clover",    "a goat named Pepper",
        "a hamster named Nutmeg",   "a gecko named Flint",     "a beagle named Rusty",   "a duck named Puddle",
        "a donkey named Barley",    "an owl named Hoot",       "a mouse named Crumb",    "a snake named Ribbon",
        "a terrier named Scout",    "a finch named Whistle",   "a llama named Fudge",    "a pig named Truffle",
        "a turtle named Shelly"}},
      {"favourite instrument",
       {"cello",    "oboe",         "harpsichord", "bassoon",    "mandolin", "accordion", "xylophone",
        "dulcimer", "sitar",        "banjo",       "clarinet",   "bagpipes", "harmonica", "tuba",
        "viola",    "ukulele",      "marimba",     "piccolo",    "theremin", "lute",      "zither",
        "trombone", "glockenspiel", "bodhran",     "hurdy-gurdy"}},
      {"lucky number",
       {"seventeen",    "forty-two",    "eighty-one", "thirteen",      "ninety-nine", "twenty-three", "sixty-four",
        "eleven",       "thirty-seven", "fifty-five", "seventy-three", "nineteen",    "eighty-eight", "twenty-nine",
        "sixty-one",    "forty-seven",  "ninety-one", "thirty-one",    "fifty-eight", "seventy-six",  "twenty-six",
        "eighty-three", "forty-four",   "sixty-nine", "ninety-three"}},
  };
  return attributes;
}

}  // namespace lkv::eval
