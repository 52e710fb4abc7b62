# Signpost finder: English (the reference catalogue). Translators: copy this file to
# <language>.ftl and translate the text after each "=". Keep every { $name } as it is.
# A message missing from a translation is shown in English.

site-name = Signpost
finder-title = Find a community group
finder-intro = Free and low-cost groups near you: conversation cafés, English classes, walking groups, support for refugees, and more.
language-label = Language
language-button = Change language
exit = Exit this page
exit-hint = Leave this page quickly
privacy = This directory does not share anything with the Home Office, the police or any other authority. It does not store or log what you search for, and it sets no cookies.
# The two links in every page's foot lead to pages in English only, for professionals:
# a catalogue leaves them to English (the foot marks them as English).
for-regulators = Training checks, for regulators
for-developers = The directory's API, for GP systems and developers
# The first link of every page, for keyboards and screen readers: to the results when a
# search has some, else to the page's content.
skip = Skip to the results
skip-main = Skip to main content

postcode-label = Postcode
postcode-hint = For example LS8 5AB. A district like LS8 works too.
distance-label = How far
distance-km = { $km } km
use-location = Use my location instead
needs-legend = What do you need?
need-free = Free
need-childcare = Childcare
need-evening-weekend = Evenings or weekends
need-no-gp = No need to be registered with a doctor (GP)
need-no-status = They do not ask about immigration status
need-self-referral = I can contact them myself
need-interpreting = An interpreter
need-women = Women only
language-legend = A group that speaks
any-language = Any language
kinds-legend = Kind of group
search-button = Search
# The referrers' part of the search form (closed until opened; a Link Worker asks
# which groups can hold a risk, and which have places now).
referrer-summary = For Link Workers and other referrers: safeguarding, training and places
support-legend = They can safely support
referrer-legend = The group
need-accepting = Is taking new people now (places confirmed recently)
need-safeguarding-lead = Has a named safeguarding lead
need-trauma-trained = Has trauma-informed training, checked with a trusted provider

error-summary = There is a problem
error-title = Error: { $title }
error-invalid-postcode = Enter a real postcode, like LS8 5AB
error-unknown-postcode = We could not find that postcode. Check it and try again
error-group-gone = This group is not listed any more. Search again below.
error-no-page = There is no page at this address. Search for a group below.
error-language = Choose a language from the list
error-location = We could not use that location. Enter a postcode instead
error-other = Something in the search is not right. Check it and try again

results-title = Results
results-count = { $count ->
    [0] No groups found
    [one] 1 group found
   *[other] { $count } groups found
}
results-near = within { $km } km of { $place }
no-results-hint = Try a greater distance or fewer choices.
previous-page = Previous page
next-page = Next page
page-of = Page { $page } of { $pages }

distance-away = { $km } km away
meets = When it meets
cost = Cost
cost-free = Free
cost-amount = £{ $amount } a session
cost-paid = There is a charge
languages = Languages spoken
contact = How to join
self-referral-yes = You can contact them yourself.
self-referral-no = Ask a GP or Link Worker to refer you.
phone = Phone
email = Email
website = Website
places = Places
capacity-accepting = Accepting new people
capacity-places = { $places ->
    [one] 1 place
   *[other] { $places } places
}
capacity-not-accepting = Not taking new people at the moment
capacity-unknown = Not known
confirmed = confirmed { $ago }
last-confirmed = last confirmed { $ago }
ago-today = today
ago-days = { $n ->
    [one] 1 day ago
   *[other] { $n } days ago
}
ago-weeks = { $n ->
    [one] 1 week ago
   *[other] { $n } weeks ago
}
good-to-know = Good to know
fact-childcare = Childcare offered
fact-no-gp = No GP registration needed
fact-no-status = Immigration status not asked
fact-interpreting-professional = Professional interpreters
fact-interpreting-volunteer = Volunteer interpreters
fact-step-free = Step-free access
fact-travel-paid = Travel costs paid
training = Training
training-verified = { $what }, checked with { $issuer }
safeguarding = Safeguarding
safeguarding-supports = Can safely support: { $list }
safeguarding-lead = Named safeguarding lead
safeguarding-policy = Written safeguarding policy
signed = Signed by the organisation; verified
how-checked = How this was checked
more = More about this group
card-link = Print a referral card
card-title = Referral card
card-print = Print this card
back = Back to the search
organisation = Organisation
address = Where
online = Online

day-mon = Monday
day-tue = Tuesday
day-wed = Wednesday
day-thu = Thursday
day-fri = Friday
day-sat = Saturday
day-sun = Sunday

category-conversation-cafe = Conversation café
category-esol = English classes (ESOL)
category-befriending = Befriending
category-gardening = Gardening
category-arts-crafts = Arts and crafts
category-peer-support = Peer support
category-refugee-support = Refugee and asylum support
category-parents-children = Parents and children
category-sport-exercise = Sport and exercise
category-mental-wellbeing = Mental wellbeing
category-advice = Advice
category-digital-skills = Computer skills
category-employment-skills = Work and skills
category-faith-community = Faith and community
category-walking = Walking group
category-music-singing = Music and singing
category-lunch-club = Lunch club
category-cooking = Cooking
category-womens-group = Women's group
category-mens-group = Men's group
category-youth = Young people
category-older-people = Older people
category-volunteering = Volunteering

attribution = Postcode locations: contains Ordnance Survey data © Crown copyright and database right 2025; contains Royal Mail data © Royal Mail copyright and database right 2025; contains National Statistics data © Crown copyright and database right 2025.
list-separator = ,{" "}
clause-separator = ;{" "}

# Whom a group can safely support (safeguarding capabilities).
support-trafficking-survivors = Survivors of trafficking and modern slavery
support-torture-survivors = Survivors of torture
support-gender-based-violence = Survivors of gender-based and sexual violence
support-domestic-abuse = People experiencing domestic abuse
support-unaccompanied-minors = Unaccompanied children and young people
support-children = Children
support-adults-at-risk = Adults at risk
support-mental-health-crisis = People in a mental health crisis
support-substance-use = People who use drugs or alcohol

# What a training provider or regulator attests (shown as checked with them).
achievement-trauma-informed-practice = Trauma-informed practice
achievement-safeguarding-adults = Safeguarding adults
achievement-safeguarding-children = Safeguarding children
achievement-mental-health-first-aid = Mental health first aid
achievement-modern-slavery-awareness = Modern slavery awareness
achievement-interpreting-in-services = Working with interpreters
