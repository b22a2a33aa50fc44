// Claim receipts: signed by the shard that decided the claim, verifiable by any game server holding the secret.
import { receiptPayload, type ClaimReceipt } from "../domain/rewards";
import { verifyHmacHex } from "./hmac";

export async function verifyReceipt(receipt: ClaimReceipt, secret: string): Promise<boolean> {
  if (!receipt || typeof receipt.signature !== "string") return false;
  return verifyHmacHex(secret, receiptPayload(receipt), receipt.signature);
}
