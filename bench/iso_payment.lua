-- wrk script: POST /v1/iso20022 with a typical single-transaction pacs.008.001.08 in a SWIFT
-- envelope with its AppHdr (about 3.7 KB, indented as banks send it), a fresh UETR each time.
-- Environment: COR_KEY (the debtor agent's API key), COR_RUN (distinguishes runs).
local counter = 0
local thread_count = 0
local threads = {}

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
    table.insert(threads, thread)
end

local template = [[<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="urn:swift:xsd:envelope">
  <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
    <Fr>
      <FIId>
        <FinInstnId>
          <BICFI>PAYERUMMXXX</BICFI>
          <LEI>5493001KJTIIGC8Y1R12</LEI>
          <Nm>Payer Bank of the Russian Federation</Nm>
        </FinInstnId>
      </FIId>
    </Fr>
    <To>
      <FIId>
        <FinInstnId>
          <BICFI>CBRFRUMMXXX</BICFI>
        </FinInstnId>
      </FIId>
    </To>
    <BizMsgIdr>MSG-%s</BizMsgIdr>
    <MsgDefIdr>pacs.008.001.08</MsgDefIdr>
    <BizSvc>swift.cbprplus.02</BizSvc>
    <CreDt>2026-11-29T10:30:00+03:00</CreDt>
  </AppHdr>
  <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
    <FIToFICstmrCdtTrf>
      <GrpHdr>
        <MsgId>MSG-%s</MsgId>
        <CreDtTm>2026-11-29T10:30:00+03:00</CreDtTm>
        <NbOfTxs>1</NbOfTxs>
        <CtrlSum>1.00</CtrlSum>
        <IntrBkSttlmDt>2026-11-29</IntrBkSttlmDt>
        <SttlmInf>
          <SttlmMtd>CLRG</SttlmMtd>
        </SttlmInf>
      </GrpHdr>
      <CdtTrfTxInf>
        <PmtId>
          <InstrId>INSTR-%s</InstrId>
          <EndToEndId>E2E-%s</EndToEndId>
          <TxId>TX-%s</TxId>
          <UETR>%s</UETR>
        </PmtId>
        <IntrBkSttlmAmt Ccy="RUB">1.00</IntrBkSttlmAmt>
        <IntrBkSttlmDt>2026-11-29</IntrBkSttlmDt>
        <InstdAmt Ccy="RUB">1.00</InstdAmt>
        <ChrgBr>SHAR</ChrgBr>
        <Dbtr>
          <Nm>Ivan Petrovich Sidorov, Trading House Volga LLC</Nm>
          <PstlAdr>
            <Ctry>RU</Ctry>
          </PstlAdr>
          <Id>
            <OrgId>
              <LEI>5493001KJTIIGC8Y1R12</LEI>
            </OrgId>
          </Id>
        </Dbtr>
        <DbtrAcct>
          <Id>
            <IBAN>DE89370400440532013000</IBAN>
          </Id>
        </DbtrAcct>
        <DbtrAgt>
          <FinInstnId>
            <BICFI>PAYERUMMXXX</BICFI>
            <LEI>5493001KJTIIGC8Y1R12</LEI>
            <Nm>Payer Bank of the Russian Federation</Nm>
          </FinInstnId>
        </DbtrAgt>
        <CdtrAgt>
          <FinInstnId>
            <BICFI>PAYEEUMMXXX</BICFI>
            <Nm>Payee Bank</Nm>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>Volga Carpet Import Company</Nm>
          <PstlAdr>
            <Ctry>RU</Ctry>
          </PstlAdr>
          <Id>
            <OrgId>
              <AnyBIC>VOLGRUMMXXX</AnyBIC>
            </OrgId>
          </Id>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <IBAN>GB82WEST12345698765432</IBAN>
          </Id>
        </CdtrAcct>
        <Purp>
          <Cd>GDDS</Cd>
        </Purp>
        <RmtInf>
          <Ustrd>Invoice 2026-0457 hand-knotted carpets, contract 77/2026</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </FIToFICstmrCdtTrf>
  </Document>
</Envelope>
]]

function init(args)
    key = os.getenv("COR_KEY")
    run = tonumber(os.getenv("COR_RUN") or "0")
end

function request()
    counter = counter + 1
    local id = string.format("%d-%d-%d", run, thread_index, counter)
    local uetr = string.format("%08x-%04x-4000-8000-%012x", counter, run, thread_index)
    local body = string.format(template, id, id, id, id, id, uetr)
    return wrk.format("POST", "/v1/iso20022",
        {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/xml"}, body)
end

not_settled = 0
function response(status, headers, body)
    if status ~= 200 or not string.find(body, "<TxSts>ACSC</TxSts>", 1, true) then
        not_settled = not_settled + 1
    end
end

function done(summary, latency, requests)
    local failed = 0
    for _, thread in ipairs(threads) do failed = failed + thread:get("not_settled") end
    io.write(string.format("p50_us=%d p99_us=%d p999_us=%d requests=%d not_acsc=%d\n",
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
        summary.requests, failed))
end
