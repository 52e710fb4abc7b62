site-name = Signpost
finder-title = Znajdź grupę w swojej okolicy
finder-intro = Bezpłatne lub tanie grupy w pobliżu: kawiarnie konwersacyjne, lekcje angielskiego, grupy spacerowe, wsparcie dla uchodźców i wiele więcej.
language-label = Język
language-button = Zmień język
exit = Opuść tę stronę
exit-hint = Szybko opuść tę stronę
privacy = Ten katalog niczego nie przekazuje Home Office, policji ani żadnemu innemu urzędowi. Nie zapisuje ani nie rejestruje tego, czego szukasz, i nie używa plików cookie.
skip = Przejdź do wyników
skip-main = Przejdź do treści głównej
postcode-label = Kod pocztowy
postcode-hint = Na przykład LS8 5AB. Wystarczy też dzielnica, np. LS8.
distance-label = Jak daleko
distance-km = { $km } km
use-location = Użyj mojej lokalizacji
needs-legend = Czego potrzebujesz?
need-free = Bezpłatnie
need-childcare = Opieka nad dziećmi
need-evening-weekend = Wieczorami lub w weekendy
need-no-gp = Nie trzeba być zapisanym do lekarza (GP)
need-no-status = Nie pytają o status imigracyjny
need-self-referral = Mogę skontaktować się sam(a)
need-interpreting = Tłumacz
need-women = Tylko dla kobiet
language-legend = Grupa mówiąca po
any-language = Dowolny język
kinds-legend = Rodzaj grupy
search-button = Szukaj
referrer-summary = Dla Link Workerów i innych osób kierujących: ochrona, szkolenia i miejsca
support-legend = Mogą bezpiecznie wspierać
referrer-legend = Grupa
need-accepting = Przyjmuje teraz nowe osoby (miejsca niedawno potwierdzone)
need-safeguarding-lead = Ma wyznaczoną osobę odpowiedzialną za ochronę
need-trauma-trained = Ma szkolenie z podejścia uwzględniającego traumę, sprawdzone u zaufanego organizatora
error-summary = Wystąpił problem
error-title = Błąd: { $title }
error-invalid-postcode = Wpisz prawdziwy kod pocztowy, np. LS8 5AB
error-unknown-postcode = Nie znaleźliśmy tego kodu pocztowego. Sprawdź go i spróbuj ponownie
error-group-gone = Tej grupy nie ma już na liście. Wyszukaj ponownie poniżej.
error-no-page = Pod tym adresem nie ma żadnej strony. Wyszukaj grupę poniżej.
error-language = Wybierz język z listy
error-location = Nie udało się użyć tej lokalizacji. Zamiast tego wpisz kod pocztowy
error-other = Coś w wyszukiwaniu jest nie tak. Sprawdź i spróbuj ponownie
results-title = Wyniki
results-count = { $count ->
    [0] Nie znaleziono grup
    [one] Znaleziono 1 grupę
    [few] Znaleziono { $count } grupy
   *[other] Znaleziono { $count } grup
}
results-near = w promieniu { $km } km od { $place }
no-results-hint = Spróbuj większej odległości lub mniejszej liczby wyborów.
previous-page = Poprzednia strona
next-page = Następna strona
page-of = Strona { $page } z { $pages }
distance-away = { $km } km stąd
meets = Kiedy się spotyka
cost = Koszt
cost-free = Bezpłatnie
cost-amount = £{ $amount } za spotkanie
cost-paid = Jest opłata
languages = Języki
contact = Jak dołączyć
self-referral-yes = Możesz skontaktować się z nimi sam(a).
self-referral-no = Poproś lekarza (GP) lub Link Workera o skierowanie.
phone = Telefon
email = E-mail
website = Strona internetowa
places = Miejsca
capacity-accepting = Przyjmują nowe osoby
capacity-places = { $places ->
    [one] 1 miejsce
    [few] { $places } miejsca
   *[other] { $places } miejsc
}
capacity-not-accepting = Obecnie nie przyjmują nowych osób
capacity-unknown = Nie wiadomo
confirmed = potwierdzono { $ago }
last-confirmed = ostatnio potwierdzono { $ago }
ago-today = dzisiaj
ago-days = { $n ->
    [one] 1 dzień temu
   *[other] { $n } dni temu
}
ago-weeks = { $n ->
    [one] 1 tydzień temu
    [few] { $n } tygodnie temu
   *[other] { $n } tygodni temu
}
good-to-know = Warto wiedzieć
fact-childcare = Opieka nad dziećmi
fact-no-gp = Nie trzeba być zapisanym do GP
fact-no-status = Nie pytają o status imigracyjny
fact-interpreting-professional = Profesjonalni tłumacze
fact-interpreting-volunteer = Tłumacze wolontariusze
fact-step-free = Wejście bez schodów
fact-travel-paid = Zwrot kosztów dojazdu
training = Szkolenia
training-verified = { $what }, potwierdzone przez { $issuer }
safeguarding = Ochrona
safeguarding-supports = Mogą bezpiecznie wspierać: { $list }
safeguarding-lead = Wyznaczona osoba odpowiedzialna za ochronę
safeguarding-policy = Pisemna polityka ochrony
signed = Podpisane przez organizację; zweryfikowane
how-checked = Jak to sprawdzono
more = Więcej o tej grupie
card-link = Wydrukuj kartę skierowania
card-title = Karta skierowania
card-print = Wydrukuj tę kartę
back = Wróć do wyszukiwania
organisation = Organizacja
address = Gdzie
online = Online
day-mon = Poniedziałek
day-tue = Wtorek
day-wed = Środa
day-thu = Czwartek
day-fri = Piątek
day-sat = Sobota
day-sun = Niedziela
category-conversation-cafe = Kawiarnia konwersacyjna
category-esol = Lekcje angielskiego
category-befriending = Towarzystwo i przyjaźń
category-gardening = Ogrodnictwo
category-arts-crafts = Sztuka i rękodzieło
category-peer-support = Wsparcie rówieśnicze
category-refugee-support = Wsparcie dla uchodźców i osób ubiegających się o azyl
category-parents-children = Rodzice i dzieci
category-sport-exercise = Sport i ćwiczenia
category-mental-wellbeing = Zdrowie psychiczne
category-advice = Porady
category-digital-skills = Umiejętności komputerowe
category-employment-skills = Praca i umiejętności
category-faith-community = Wiara i społeczność
category-walking = Grupa spacerowa
category-music-singing = Muzyka i śpiew
category-lunch-club = Klub obiadowy
category-cooking = Gotowanie
category-womens-group = Grupa dla kobiet
category-mens-group = Grupa dla mężczyzn
category-youth = Młodzież
category-older-people = Osoby starsze
category-volunteering = Wolontariat
list-separator = ,{" "}
clause-separator = ;{" "}

support-trafficking-survivors = Osoby, które przeżyły handel ludźmi i współczesne niewolnictwo
support-torture-survivors = Osoby, które przeżyły tortury
support-gender-based-violence = Osoby, które doświadczyły przemocy ze względu na płeć i przemocy seksualnej
support-domestic-abuse = Osoby doświadczające przemocy domowej
support-unaccompanied-minors = Dzieci i młodzież bez opieki
support-children = Dzieci
support-adults-at-risk = Dorosłych zagrożonych krzywdą
support-mental-health-crisis = Osoby w kryzysie zdrowia psychicznego
support-substance-use = Osoby używające narkotyków lub alkoholu

achievement-trauma-informed-practice = Podejście uwzględniające traumę
achievement-safeguarding-adults = Ochrona dorosłych
achievement-safeguarding-children = Ochrona dzieci
achievement-mental-health-first-aid = Pierwsza pomoc w zdrowiu psychicznym
achievement-modern-slavery-awareness = Wiedza o współczesnym niewolnictwie
achievement-interpreting-in-services = Praca z tłumaczami
